"""What the tests and the benchmarks share. Import from the module that defines a name (nothing is re-exported):

Waiting (waiting.py)
    eventually(check, timeout=10, what=..., ignoring=(...), failure=AssertionError) -> the first truthy value
    throughout(check, seconds, what=...)        check holds every time it is asked for that long
    Every wait in a test is one of these: no hand-written deadline loops.

Kubernetes objects (objects.py), the one builder of them
    make_node(name, internal_ip=, hostname=, external_ip=, other_addresses=, labels=, ready=, cpu=, memory=)
    make_pod(name, namespace=, node=, pod_ip=, host_ip=, labels=, annotations=, ready=, host_network=, ...)
    make_executor(name, app=, exec_id=, paths=, require_local_worker=, namespace="spark", **make_pod options)

Scheduler request bodies (bodies.py)
    recorded(name), with_paths(body, paths), names_body(nodes, paths), ranking_problem(...), scores_of(...)
    recorded("volcano/predicate" or "volcano/prioritize"): vc-scheduler's extender plugin's bodies.
    full_nodes.py: full-size Node objects (50 images, managedFields) and body sizes.

Metrics (metrics.py)
    Samples(registry) or Samples.parse(text); .value(name, **labels), .sum(name, **labels),
    .by_label(name, label, **labels): prometheus_client's get_sample_value, 0 for a sample not there yet,
    a failure for a name the extender does not define. Served.metrics() reads a server's /metrics.

The served extender (served.py)
    Served(*flags, ready=True, port=, tls=, command=, env=): `scheduler-extender serve` on a free loopback
    port; .post, .get, .request, .metrics(), .wait_ready(), .worker_pid(), .output(), .stop(); a context manager.
    free_port(), stop_process(popen), children(pid).
    settings.py: load_settings(argv, env), as `serve` reads its flags, raising ConfigError.
    raw_http.py: RawConnection(port, tls=): bytes sent as given, .answer() -> Answer(status, headers, body),
    .after(within) -> (what else came, whether the server closed). fragile_serve.py: FRAGILE, a `serve` command
    in which a request for END_THIS_THREAD ends its serving thread.

Fakes: real HTTP servers on loopback in the real wire format (loopback.py for their lifecycle:
`with Fake() as fake`, .url, .stop()/.start() on the same port, .restart())
    fake_alluxio.py   FakeAlluxio: Alluxio 2.x proxy and master (add_file, add_dir, add_worker, calls, received)
    fake_kube.py      FakeKube: kube-apiserver LIST/WATCH/GET of nodes and pods; kube_config, kubeconfig_file
    fake_alluxio3.py  FakeWorker3, FakeMaster3, Namespace, membership_entry: Alluxio 3 workers and master
    faults.py         Fault and Faults, the one fault injector every fake has: fake.inject(status=, delay=,
                      truncate=, garbage=, body=, drop=, times=, <request attribute>=), fake.clear_faults()

Real servers and the deployment
    control_plane.py  ControlPlane (etcd, kube-apiserver, kube-schedulers of a tested version; spawn), Rest,
                      Process, control_plane_binaries(version), create_node, create_worker_pod
    deployment.py     manifests/ on a control plane: NAMESPACE, SCHEDULER, EXTENDER, apply_access,
                      scheduler_config(url), start_scheduler, extender_kubeconfig
    volcano.py        vc-scheduler on a control plane: volcano_dir(), install_crds, start_vc_scheduler(plane, dir,
                      name, conf), scheduler_conf(extender arguments or None), extender_arguments(url) (what the
                      chart renders), pod_group, create_pod_group, GROUP_ANNOTATION
    kube_versions.py  the tested Kubernetes versions (kubernetes-versions.txt): matrix(), newest(), find(), selected()
    certs.py          make_pki(dir): a serving CA and certificate, a client CA and certificate
    tls_layout.py     which Secret key each TLS file of a rendering is: secret_files, tls_sources,
                      cert_manager_layout, mounted_across

Suites' shared parts
    app_cluster.py    app_cluster(tmp_path, alluxio, *flags): a served extender watching a FakeKube of NODES caching
                      INPUT 75% / 25% / 0, for each front end's per-application placement test
    fault_probe.py    Probe, Figure and the data of the fault suites (the conftest's seeded_alluxio, fault_figures)
    figures.py        report(section, line): figures printed after the run
    fuzz_inputs.py    the fuzzer's inputs and oracle; recorded_alluxio.py, chart.py: their suites' data
    paths.py          ROOT, DATA, MANIFESTS, EXAMPLES
"""
