"""The Markdown report of a run: the machine, the issue's targets met or not, then each section's table."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

TARGETS = (
    ("prioritize p99 at 1,000 names (over HTTP)", "≤ 2 ms", 2.0, "max"),
    ("prioritize p99 at 5,000 names (over HTTP)", "≤ 10 ms", 10.0, "max"),
    ("prioritize throughput at 1,000 names", "≥ 1,000 req/s", 1000.0, "min"),
    ("throughput vs the naive peer at 1,000 names", "≥ 10×", 10.0, "min"),
    ("RSS with the 1M-block index (10 directory entries)", "≤ 200 MB", 200.0, "max"),
    ("real kube-scheduler with the extender, 1,000 nodes", "≥ 100 pods/s", 100.0, "min"),
    ("… as a share of the same scheduler without it", "≥ 0.7×", 0.7, "min"),
    ("paced prioritize p99 at 1,000 names while a 100k-block directory refreshes every 5 s, "
     "over the same without refreshes", "≤ 1.5×", 1.5, "max"),
    ("… the slowest of those calls", "≤ 20 ms", 20.0, "max"),
    ("RSS with the 1M-block index, all processes together (arbiter, worker, sync process)", "≤ 200 MB", 200.0,
     "max"),
    ("real kube-scheduler as shipped (with `filterVerb`) against the same without the extender", "≥ 0.85×", 0.85,
     "min"),
    ("100 stalled clients: well-formed calls answered", "all (1.0)", 1.0, "min"),
    ("… slowest call against the unloaded p99", "≤ 2×", 2.0, "max"),
    ("… stalled connections dropped, slowest against the read timeout", "≤ 1.1×", 1.1, "max"),
    ("throughput at 1,000 names against the Go floor, 1 connection", "≥ 0.8×", 0.8, "min"),
    ("… over 4 connections", "≥ 0.6×", 0.6, "min"),
    ("p99 at 1,000 names against the floor's, 1 connection", "≤ 1.5×", 1.5, "max"),
    ("Nodes mode, 1,000 full Node objects: p50 against Go's typed decode", "≤ 2×", 2.0, "max"),
    ("real kube-scheduler with ours against with the Go floor as its extender, pods/s, 1,000 nodes", "≥ 0.95×", 0.95,
     "min"),
    ("… at 5,000 nodes", "≥ 0.95×", 0.95, "min"),
    ("… our CPU per scheduled pod against the floor's, the worse of 1,000 and 5,000 nodes", "≤ 1.2×", 1.2, "max"),
    ("one 200 MiB body to /prioritize: the worker's peak RSS over its RSS before, against the body", "≤ 1.2×", 1.2,
     "max"),
    ("admission webhook (/mutate) p99 at 1,000 nodes", "≤ 10 ms", 10.0, "max"),
)


def _cells(results: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return results["sections"].get(section, {}).get("cells", [])


def _find(rows: Iterable[dict[str, Any]], **want: Any) -> list[dict[str, Any]]:
    return [r for r in rows if all(r.get(k) == v for k, v in want.items())]


def _worst(values: Sequence[float | None], kind: str) -> float | None:
    known = [v for v in values if v is not None]
    if not known:
        return None
    return max(known) if kind == "max" else min(known)


def target_figures(results: dict[str, Any]) -> list[float | None]:
    """Each target's figure: the worst over the workloads it covers (both pods kinds), None if not measured."""
    http = _cells(results, "http")
    naive = _cells(results, "naive")

    def p99(n: int) -> float | None:
        return _worst([r["latency"]["p99"] for r in _find(http, verb="prioritize", mode="names", n=n)], "max")

    def rps(rows: list[dict[str, Any]], workload: str) -> float | None:
        found = _find(rows, verb="prioritize", mode="names", n=1000, workload=workload)
        return found[0]["throughput"]["rps"] if found and "throughput" in found[0] else None

    ratios = [ours / theirs for w in ("dir", "paths20")
              if (ours := rps(http, w)) is not None and (theirs := rps(naive, w))]
    memory = results["sections"].get("memory", {})
    rss = memory.get("rss_mib", {}).get("directories")
    sched = results["sections"].get("scheduler", {})
    everything = memory.get("all_processes_mib", {}).get("directories", {}).get("rss")
    refreshing = {r["config"]: r["latency"] for r in results["sections"].get("refresh", {}).get("rows", [])
                  if r["hot_set"] == "one directory"}
    with_refresh, without = refreshing.get("ttl 5s"), refreshing.get("ttl 1h (no refresh)")
    ratio = with_refresh["p99"] / without["p99"] if with_refresh and without and without["p99"] else None
    return [p99(1000), p99(5000), _worst([rps(http, w) for w in ("dir", "paths20")], "min"),
            _worst(ratios, "min"), rss * 1.048576 if rss is not None else None,  # MiB -> MB
            sched.get("pods_per_s_with"), sched.get("ratio"), ratio, with_refresh["max"] if with_refresh else None,
            everything * 1.048576 if everything is not None else None, sched.get("ratio"),
            *_slow_client_figures(results["sections"].get("slow-clients")),
            *_floor_figures(results["sections"].get("floor")), *_scheduler_floor_figures(sched),
            results["sections"].get("body", {}).get("prioritize", {}).get("peak_over_body"),
            _worst([r["latency"]["p99"] for r in _find(_cells(results, "webhook"), n=1000)], "max")]


def _scheduler_floor_figures(section: dict[str, Any]) -> list[float | None]:
    by_nodes = {size["nodes"]: size for size in section.get("sizes", [])}
    return [by_nodes.get(1000, {}).get("ours_over_floor"), by_nodes.get(5000, {}).get("ours_over_floor"),
            _worst([size["cpu_ours_over_floor"] for size in by_nodes.values()], "max")]


def _slow_client_figures(section: dict[str, Any] | None) -> list[float | None]:
    if not section:
        return [None, None, None]
    stalled = section["stalled"]
    answered = stalled["count"] / stalled["sent"] if stalled["sent"] else None
    return [answered, section["slowest_over_unloaded_p99"], section["drop_delay_over_read_timeout"]]


def _floor_figures(section: dict[str, Any] | None) -> list[float | None]:
    if not section:
        return [None, None, None, None]
    cells = section["cells"]
    return [_worst([c["rps_ratio_one"] for c in cells], "min"), _worst([c["rps_ratio_four"] for c in cells], "min"),
            _worst([c["p99_ratio_one"] for c in cells], "max"),
            _worst([c["p50_over_go_decode"] for c in section["nodes_mode"]["cells"]], "max")]


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    d = results["dataset"]
    out = [f"# Benchmark results{' (quick run)' if results['quick'] else ''}", "",
           f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, Linux {m['kernel']}, Python {m['python']}; "
           f"load average {m['loadavg_at_start']} at start, {m.get('loadavg_at_end')} at end. "
           f"Commit {m['git_commit'][:12]}{' (tree modified)' if m['git_dirty_files'] else ''}, {m['started_utc']}.",
           "", f"Dataset: {d['blocks']:,} blocks over {d['files']:,} files in {d['dirs']} directories, "
           f"{d['workers']:,} workers; `dir` pods read one directory of {d['files_per_dir']:,} files, `paths20` pods "
           f"read 20 files. Latency windows {results['duration_s']:g} s per cell.", ""]
    if results.get("errors"):
        out += ["**Sections that failed:** " + ", ".join(results["errors"]) + " (tracebacks in results.json)", ""]
    out += ["## Targets", ""]
    rows = []
    for (what, goal, bound, kind), value in zip(TARGETS, target_figures(results), strict=True):
        met = "–" if value is None else ("met" if (value <= bound if kind == "max" else value >= bound) else "not met")
        rows.append([what, goal, _fmt(value), met])
    out += _table(["target", "goal", "measured", ""], rows) + [""]
    sections = results["sections"]
    if "http" in sections:
        out += _http(sections["http"], {_key(r): r for r in _cells(results, "inprocess")})
    if "naive" in sections:
        out += _naive(sections["naive"], {_key(r): r for r in _cells(results, "http")})
    if "memory" in sections:
        out += _memory(sections["memory"])
    if "sync" in sections:
        out += _sync(sections["sync"])
    if "refresh" in sections:
        out += _refresh(sections["refresh"])
    if "floor" in sections:
        out += _floor(sections["floor"])
    if "slow-clients" in sections:
        out += _slow_clients(sections["slow-clients"])
    if "scheduler" in sections:
        out += _scheduler(sections["scheduler"])
    if "body" in sections:
        out += _body(sections["body"])
    if "webhook" in sections:
        out += _webhook(sections["webhook"])
    if "volcano" in sections:
        out += _volcano(sections["volcano"])
    if "cluster" in sections:
        c = sections["cluster"]
        out += ["## Real executors in a one-box cluster", "",
                f"{c['nodes']} nodes as network namespaces ({c['node_cpu']} CPUs, {c['node_memory']} each), links "
                f"shaped to {' and '.join(c['rates'])} each way per node; real Alluxio 2.9.6 workers, Spark executors "
                "in client mode (tests/cluster/README.md). Local = Worker.BytesReadDomain over domain plus "
                "Worker.BytesReadRemote; the model is e2e_spark.shared_local_fraction (executors on a node share "
                "what it caches). Figures are means over the rounds, (min-max) beside them; locality wait is the "
                "executor core-seconds left idle while tasks of their stage waited to launch.", "",
                *c["table"], ""]
    return "\n".join(out) + "\n"


def _key(row: dict[str, Any]) -> tuple[str, str, int, str]:
    return row["verb"], row["mode"], row["n"], row["workload"]


def _http(section: dict[str, Any], inprocess: dict[tuple, dict[str, Any]]) -> list[str]:
    rows = []
    for r in section["cells"]:
        lat, ip = r["latency"], inprocess.get(_key(r), {})
        handler, flask = ip.get("handler", {}), ip.get("flask", {})
        share = (1 - flask["p50"] / lat["p50"]) * 100 if flask.get("p50") and lat["p50"] else None
        rows.append([r["verb"], r["mode"], f"{r['n']:,}", r["workload"], _fmt(lat["p50"]), _fmt(lat["p99"]),
                     _fmt(lat["p999"]), _fmt(r.get("throughput", {}).get("rps")), _fmt(r["server_cpu_ms_per_request"]),
                     _fmt(handler.get("p50"), 3), _fmt(handler.get("p99"), 3), _fmt(flask.get("p50"), 3),
                     _fmt(share, 0) + "%" if share is not None else "–", r["answer"]])
    return ["## Extender requests", "",
            f"{section['server']}; {section['note']}. Latency over HTTP from a separate load-generator process, one "
            f"keep-alive connection, closed loop; throughput with {section['throughput_connections']} connections. "
            "In-process: `handler` = parse + verb + render; `flask` = the Flask test client (routing, metrics). "
            "HTTP share = 1 − flask p50 / HTTP p50. Times in ms.", "",
            *_table(["verb", "mode", "nodes", "pods", "p50", "p99", "p99.9", "req/s", "server CPU/req",
                     "handler p50", "handler p99", "flask p50", "HTTP share", "answer"], rows), ""]


def _naive(section: dict[str, Any], ours: dict[tuple, dict[str, Any]]) -> list[str]:
    rows = []
    for r in section["cells"]:
        mine = ours.get(_key(r))
        ratio = mine["latency"]["p50"] and r["latency"]["p50"] / mine["latency"]["p50"] if mine else None
        rps = r.get("throughput", {}).get("rps")
        my_rps = mine.get("throughput", {}).get("rps") if mine else None
        rows.append([r["mode"], f"{r['n']:,}", r["workload"], _fmt(r["latency"]["p50"]), _fmt(r["latency"]["p99"]),
                     _fmt(ratio, 1) + "×" if ratio else "–", _fmt(rps), _fmt(my_rps / rps, 1) + "×" if rps and my_rps
                     else "–", r["answer"]])
    return ["## Against a naive peer", "", f"`{section['server']}`: {section['note']}. Same fake Alluxio and data, "
            "same answers (checked). Ratios are ours over its.", "",
            *_table(["mode", "nodes", "pods", "naive p50 ms", "naive p99 ms", "p50 ratio", "naive req/s",
                     "req/s ratio", "answer"], rows), ""]


def _memory(section: dict[str, Any]) -> list[str]:
    rss, tree = section["rss_mib"], section.get("all_processes_mib", {})
    rows = [[k, _fmt(v, 1), _fmt(tree.get(k, {}).get("rss"), 1), _fmt(tree.get(k, {}).get("pss"), 1),
             ", ".join(f"{name} {m['rss']:.0f}" for name, m in tree.get(k, {}).get("processes", {}).items())]
            for k, v in rss.items()]
    return ["## Memory", "", section["note"], "",
            *_table(["state", "worker RSS MiB", "all processes RSS MiB", "all processes PSS MiB",
                     "RSS MiB by process"], rows),
            "", f"Peak RSS {_fmt(section['peak_rss_mib'], 1)} MiB; bytes per cached block: "
            f"{_fmt(section['bytes_per_block_directory_entries'], 1)} in directory entries, "
            f"{_fmt(section['bytes_per_block_file_entries'], 1)} in file entries, "
            f"{_fmt(section['bytes_per_block_total'], 1)} for both.", ""]


def _sync(section: dict[str, Any]) -> list[str]:
    build = section["build"]
    rows = [[what, f"{b['loaded']:,} of {b['paths']:,}", _fmt(b["seconds"], 1), f"{b['list_status_calls']:,}",
             _fmt(b["server_cpu_s"], 1), _fmt(b["paths_per_s"], 1)]
            for what, b in (("10 directories (all blocks)", build["directories"]),
                            ("every file", build["files"]))]
    return ["## Index sync", "", f"A full build on a fresh server (`{build['server']}`), asked for through "
            "/prioritize as a scheduler would. Server CPU: the worker and its sync process.", "",
            *_table(["build", "paths", "seconds", "list-status calls", "server CPU s", "paths/s"], rows), ""]


def _refresh(section: dict[str, Any]) -> list[str]:
    rows = []
    for r in section["rows"]:
        per = r.get("cpu_ms_per_refresh", {})
        rows.append([r["hot_set"], str(r["hot_paths"]), r["config"], _fmt(r["refreshes"], 0),
                     _fmt(r["alluxio_calls_per_s"]), _fmt(r["latency"]["p50"]), _fmt(r["latency"]["p99"]),
                     _fmt(r["latency"]["max"]), " / ".join(_fmt(x["p99"]) for x in r["rounds"]),
                     " / ".join(f"{k} {_fmt(v, 1)}" for k, v in per.items()) or "–", str(r["requests"])])
    return ["## Refreshes and the calls", "",
            f"/prioritize paced at 20 req/s over one keep-alive connection each, 1,000 candidate names, on two "
            f"servers side by side, measured at the same time ({section['rounds']} windows of {section['window_s']:g} "
            "s): one refreshing its hot set every 5 s, one never. Whatever else loads the machine (here: "
            f"{section['cpu']['other_cores']:.2f} cores busy with other work on average) loads both alike. CPU per "
            "refresh: what each process of the refreshing server spent beyond the other's, per refresh, from "
            "/proc (10 ms ticks: the worker's figure is within noise; its own cost is timed below).", "",
            *_table(["hot set", "paths", "TTL", "refreshes", "Alluxio calls/s", "p50 ms", "p99 ms", "max ms",
                     "p99 per round", "CPU ms per refresh", "calls"], rows), "", *_serving_cost(section)]


def _serving_cost(section: dict[str, Any]) -> list[str]:
    cost = section.get("serving_cost")
    if not cost:
        return []
    return [f"Per refresh of a directory of {cost['blocks']:,} blocks ({cost['worker_sets']:,} worker sets over "
            f"{cost['workers']:,} workers), the serving process reads a {cost['message_bytes']:,}-byte message, "
            f"decodes it and builds its node table in {_fmt(cost['serving_ms_median'])} ms of thread CPU, all of "
            f"it holding the GIL (median of {cost['runs']}; max {_fmt(cost['serving_ms_max'])} ms; timed in the "
            f"runner on the same code); the sync process's encoding of it took {_fmt(cost['sync_encode_ms'], 1)} "
            "ms, after decoding the list-status answer. The first call after the refresh finds its bytes per node "
            f"built: {_fmt(cost.get('first_call_ms_median'), 3)} ms to get them; a call with a new list of 1,000 "
            "candidate names (one node fewer) places the entry's workers again in "
            f"{_fmt(cost.get('new_candidates_ms_median'))} ms.", ""]


def _scheduler(section: dict[str, Any]) -> list[str]:
    rows = [[r["run"], r["config"], f"{r['bound']}/{r['pods']}", _fmt(r["bind_span_s"], 1),
             _fmt(r["pods_per_s"], 0), _fmt(r["bind_gap_ms"]["p50"]), _fmt(r["bind_gap_ms"]["p99"]),
             f"{r['pods_on_node_caching_input']}",
             " / ".join(_fmt(r.get("extender_server_ms_per_call", {}).get(v)) for v in ("filter", "prioritize"))
             if r["config"] not in ("without", "floor") else "–", _fmt(r.get("extender_cpu_ms_per_pod")),
             _fmt(r["cpu"]["other_cores"])] for r in section["rounds"]]
    sizes = [[f"{size['nodes']:,}", str(size["rounds"]), *(_fmt(size["pods_per_s"][c], 0) for c in
                                                           ("without", "floor", "with", "prioritize-only")),
              _fmt(size["ratio"]), _fmt(size["floor_over_without"]), _fmt(size["ours_over_floor"]),
              _fmt(size["extender_cpu_ms_per_pod"]["floor"]), _fmt(size["extender_cpu_ms_per_pod"]["with"]),
              _fmt(size["cpu_ours_over_floor"]), _fmt(size["pods_per_s"].get("per-pod"), 0),
              _fmt(size["extender_cpu_ms_per_pod"].get("per-pod")), _fmt(size.get("cpu_per_app_over_per_pod"))]
             for size in section.get("sizes", [])]
    return ["## Through a real kube-scheduler", "",
            f"kube-scheduler {section['kube_scheduler']}, {section['pods']:,} executor pods per round; "
            f"{section['config']}. Pods/s = bound pods / (last bind − first bind); gap = time between consecutive "
            "binds; extender ms per call = the extender's own handling time (its request histogram); extender CPU = "
            "the called extender's processes (ours: arbiter, worker, sync process; the floor: its one) per bound "
            "pod.", "",
            *_table(["run", "configuration", "bound", "span s", "pods/s", "gap p50 ms", "gap p99 ms",
                     "on a node caching input", "extender ms per call (filter / prioritize)",
                     "extender CPU ms per pod", "other CPU cores"], rows), "",
            "Means over the rounds of each size:", "",
            *_table(["nodes", "rounds", "pods/s without", "with the floor", "with ours", "ours, prioritize only",
                     "ours / without", "floor / without", "ours / floor", "floor CPU ms/pod", "our CPU ms/pod",
                     "CPU ours / floor", "ours per pod: pods/s", "per pod: CPU ms/pod",
                     "CPU per application / per pod"], sizes), "",
            "Ours scores an executor by where its application's executors are (as shipped); 'per pod' scores it by "
            "its node's bytes alone (`--app-placement off`, docs/placement.md).", "",
            *_scheduler_cpu(section["rounds"])]


def _volcano(section: dict[str, Any]) -> list[str]:
    rows = [[r["run"], r["config"], f"{r['bound']}/{r['pods']}", _fmt(r["bind_span_s"], 1), _fmt(r["pods_per_s"], 0),
             f"{r['pods_on_node_caching_input']}",
             _fmt(r.get("extender_server_ms_per_call", {}).get("volcano/prioritize"))
             if r["config"] != "without" else "–"] for r in section["rounds"]]
    return ["## Through a real vc-scheduler", "",
            f"vc-scheduler {section['vc_scheduler']}, {section['nodes']:,} nodes, {section['pods']:,} executor pods "
            f"per round; {section['config']}. Pods/s as for kube-scheduler above.", "",
            *_table(["round", "configuration", "bound", "span s", "pods/s", "on a node caching input",
                     "extender ms per prioritize"], rows), "",
            f"Mean pods/s: with {_fmt(section['pods_per_s_with'], 0)}, without "
            f"{_fmt(section['pods_per_s_without'], 0)}, ratio {_fmt(section['ratio'])}.",
            "", *_scheduler_cpu(section["rounds"])]


def _scheduler_cpu(rounds: list[dict[str, Any]]) -> list[str]:
    """Where the cores went in each round: on 2 cores the control plane alone keeps them busy, so whatever
    the extender costs anywhere (its own CPU, the scheduler's encoding and decoding of the calls) is paid in
    pods/s."""
    names = sorted({name for r in rounds for name in r["cpu"].get("seconds_by_process", {})})
    rows = [[r["run"], _fmt(r["cpu"]["busy_cores"]),
             *(_fmt(r["cpu"].get("seconds_by_process", {}).get(name, 0.0) * 1000 / r["bound"])
               for name in names)] for r in rounds if r["bound"]]
    return ["CPU per bound pod, ms, by process, from the scheduler's start to the last bind (its start-up, "
            "listing 1,000 nodes and their worker pods, included); busy cores = the machine's, over the same "
            "window.", "", *_table(["round", "busy cores", *names], rows), ""]


def _floor(section: dict[str, Any]) -> list[str]:
    rows = []
    for c in section["cells"]:
        for who in ("ours", "floor"):
            runs = c["runs"][who]
            rows.append([c["workload"], who,
                         *(" / ".join(_fmt(r[load][figure]) for r in runs)
                           for load, figure in (("one", "rps"), ("one", "p50"), ("one", "p99"), ("four", "rps"),
                                                ("four", "p99"))),
                         c["answer"][who]])
        rows.append([c["workload"], "ours ÷ floor", _fmt(c["rps_ratio_one"]), "", _fmt(c["p99_ratio_one"]),
                     _fmt(c["rps_ratio_four"]), _fmt(c["p99_ratio_four"]), ""])
    nodes = [[c["workload"], f"{c['body_bytes'] / 1e6:.1f} MB", _fmt(c["ours"]["p50"]), _fmt(c["floor"]["p50"]),
              _fmt(c["go_decode"]["p50_ms"]), _fmt(c["p50_over_go_decode"]), _fmt(c["p50_over_floor"]),
              f"{c['ours_answer']} / {c['floor_answer']}"] for c in section["nodes_mode"]["cells"]]
    return ["## Against the Go floor", "",
            f"`{section['floor']}`: decodes each ExtenderArgs into typed structs, looks the pod's scores up in a "
            "table computed beforehand, encodes the same answer; no index, no placement. Both servers take the "
            f"same /prioritize bodies at 1,000 names from the same load generator, alternating, {section['rounds']} "
            f"rounds of {section['window_s']:g} s (figures per round); 1 connection closed loop, then "
            f"{section['connections']}. Ratios: ours over the floor's, the median of the rounds'. Times in ms.", "",
            *_table(["pods", "server", "req/s, 1 conn", "p50", "p99", f"req/s, {section['connections']} conns",
                     "p99", "answer"], rows), "",
            "Nodes mode: /prioritize with 1,000 full Node objects (50 images, managedFields) over HTTP, and Go's "
            "decode of the same body (a `json.Decoder`) into the floor's typed ExtenderArgs alone.", "",
            *_table(["pods", "body", "ours p50", "floor p50", "Go decode p50", "ours ÷ Go decode", "ours ÷ floor",
                     "answers"], nodes), ""]


def _slow_clients(section: dict[str, Any]) -> list[str]:
    def row(name: str, run: dict[str, Any]) -> list[str]:
        lat = run["latency"]
        return [name, f"{run['count']:,} of {run['sent']:,}", _fmt(lat["p50"]), _fmt(lat["p99"]), _fmt(lat["p999"]),
                _fmt(lat["max"])]

    stalls, delay = section["stalls"], section["stalls"]["drop_delay_s"]
    rows = [row("none stalled", section["unloaded"][0]), row(f"{section['stalled_clients']} stalled",
                                                              section["stalled"]), row("none stalled, after",
                                                                                       section["unloaded"][1])]
    return ["## Stalled clients", "",
            f"{section['server']} (read timeout {section['read_timeout_s']:g} s); /prioritize `{section['cell']}` "
            f"over one keep-alive connection for {section['window_s']:g} s, first with no other client, then while "
            f"{section['stalled_clients']} clients hold half a request each (each sends headers and 10 bytes of a "
            "body; one the server drops stalls again on a new connection), then alone again. Times in ms.", "",
            *_table(["window", "answered", "p50", "p99", "p99.9", "slowest"], rows), "",
            f"Slowest call while stalled: {_fmt(section['slowest_over_unloaded_p99'])}× the worst unloaded p99. "
            f"Stalled connections dropped: {stalls['dropped']:,} ({stalls['answered_408']:,} answered 408 first), "
            f"after {_fmt(delay['p50'])} s (p50) to {_fmt(delay['max'])} s (slowest) of stalling; at most "
            f"{stalls['most_stalled_at_once']} stalled at once; the server counted "
            + ", ".join(f"{v:.0f} {k}" for k, v in sorted(section["dropped_by_server"].items()) if v) + f". "
            f"Answers checked: {section['answer']}.", ""]


def _body(section: dict[str, Any]) -> list[str]:
    rows = [[verb, str(run["status"]), _fmt(run["seconds"]), _fmt(run["answer_mib"], 1), _fmt(run["rss_before_mib"], 1),
             _fmt(run["peak_rss_mib"], 1), _fmt(run["peak_over_body"])]
            for verb in ("prioritize", "filter") if (run := section.get(verb))]
    return ["## One large body", "",
            f"One body of {section['body_mib']} MiB of full Node objects to the worker with its defaults; its peak "
            "RSS (VmHWM, reset before each call) less its RSS before, against the body.", "",
            *_table(["verb", "status", "seconds", "answer MiB", "RSS before MiB", "peak RSS MiB", "peak over body"],
                    rows), ""]
def _webhook(section: dict[str, Any]) -> list[str]:
    rows = [[f"{r['n']:,}", r["workload"], _fmt(r["latency"]["p50"]), _fmt(r["latency"]["p99"]),
             _fmt(r["latency"].get("p999")), str(r["latency"]["n"]), r["answer"]] for r in section["cells"]]
    return ["## Admission webhook", "", f"POST /mutate over one keep-alive connection; {section['note']}.", "",
            *_table(["nodes", "workload", "p50 ms", "p99 ms", "p99.9 ms", "n", "answer"], rows), ""]
