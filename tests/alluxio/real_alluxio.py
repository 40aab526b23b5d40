"""A real Alluxio 2.9 cluster on loopback: one master (or an HA set on the embedded journal), workers, the REST
proxy, and the `alluxio fs` / `fsadmin` CLIs, with the calls that put data in it and ask Alluxio itself where the
blocks are.

The jars and a Java 11 runtime come from `fetch-alluxio.sh` (its cache dir holds `classpath.txt` and `java`).
Every process binds 127.0.0.1 on ports that were free when the cluster was made. Each worker calls itself by a
different name of loopback (`alluxio.worker.hostname`: 127.0.0.1, localhost), so the master sees workers on
different hosts. The root mount is a local directory (the UFS). Each worker has a MEM tier (on /dev/shm when
there is one) above an SSD tier (a directory).

    with RealAlluxio(cache_dir, work_dir, workers=[("127.0.0.1", ""), ("localhost", "")]) as cluster:
        cluster.fs("ls", "/")            # the real CLI: a CompletedProcess
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.support.waiting import eventually

CACHE_ENV = "SCHEDULER_EXTENDER_ALLUXIO_CACHE"
"""Env var naming the cache dir that fetch-alluxio.sh printed (the fixture runs the script when it is unset)."""

FETCH_SCRIPT = Path(__file__).resolve().parent / "fetch-alluxio.sh"
MIB = 1 << 20

PROXY_PATHS_FIX = {"alluxio.proxy.s3.v2.version.enabled": "false",
                   "alluxio.proxy.s3.v2.async.processing.enabled": "false"}
"""What README.md says the proxy needs on 2.9.3+ for its paths API to answer (Alluxio issues 17492, 18365)."""

START_TIMEOUT = 240.0
"""Seconds a JVM may take to answer: 2 cores shared with other suites make a cold start slow, never this slow."""

_LOG4J = """\
log4j.rootLogger={level}, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.Target=System.err
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=%d{{ISO8601}} %-5p %c{{1}} [%t] - %m%n
"""

Inventory = dict[str, dict[int, tuple[int, str]]]
"""What one worker stores: {file path: {block id: (length, tier alias)}}."""


class AlluxioError(RuntimeError):
    """A process of the cluster failed to start, or a command failed; the message carries its output."""


class _NotReady(AlluxioError):
    """A wait for the cluster ran out."""


def fetch(env: Mapping[str, str] = os.environ) -> Path:
    """The cache dir: $SCHEDULER_EXTENDER_ALLUXIO_CACHE when it holds a fetch, else what fetch-alluxio.sh prints."""
    given = env.get(CACHE_ENV)
    if given and (Path(given) / "complete").exists():
        return Path(given)
    run = subprocess.run(["bash", str(FETCH_SCRIPT)], capture_output=True, text=True)
    if run.returncode != 0:
        raise AlluxioError(f"{FETCH_SCRIPT} exited {run.returncode}:\n{run.stderr[-4000:]}")
    return Path(run.stdout.strip().splitlines()[-1])


def java_problem(cache_dir: Path) -> str | None:
    """Why the fetched Java cannot start (in its own words), or None when `java -version` works."""
    java = (cache_dir / "java").read_text().strip()
    try:
        run = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except OSError as err:
        return f"cannot execute {java}: {err}"
    except subprocess.TimeoutExpired:
        return f"{java} -version did not answer in 60 s"
    if run.returncode != 0:
        return f"{java} -version exited {run.returncode}: {(run.stderr or run.stdout).strip()[-1000:]}"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: bytes | None = None, *, timeout: float = 30) -> tuple[int, bytes]:
    """(status, body) of one request, JSON if it has a body; an HTTP error status is an answer, not an exception."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def paths_url(proxy_url: str, path: str, action: str) -> str:
    """The proxy's paths API URL of an absolute Alluxio path: the documented form, built apart from our client."""
    return f"{proxy_url}/api/v1/paths/{quote(path, safe='/')}/{action}"


@dataclass(frozen=True)
class Worker:
    host: str
    """What the worker calls itself (`alluxio.worker.hostname`): the `host` of its address everywhere."""
    container_host: str
    """`alluxio.worker.container.hostname`, "" for none. Alluxio's clients connect to it rather than to `host`
    when it is set (as to a worker pod's IP), so the worker's RPC server binds it: it must be a loopback IP."""
    rpc_port: int
    web_port: int
    mem_dir: Path
    ssd_dir: Path
    web_host: str = "127.0.0.1"
    """The address its web server (metrics, block info) answers on."""

    @property
    def web_url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"

    def properties(self) -> dict[str, str]:
        found = {
            "alluxio.worker.hostname": self.host,
            "alluxio.worker.rpc.port": str(self.rpc_port),
            "alluxio.worker.web.port": str(self.web_port),
            "alluxio.worker.tieredstore.level0.dirs.path": str(self.mem_dir),
            "alluxio.worker.tieredstore.level1.dirs.path": str(self.ssd_dir),
        }
        if self.container_host:
            found["alluxio.worker.container.hostname"] = self.container_host
            found["alluxio.worker.bind.host"] = self.container_host
        return found


@dataclass(frozen=True)
class Master:
    """One master's ports, and its own journal directory (each master of an embedded journal keeps a copy)."""
    rpc_port: int
    web_port: int
    journal_port: int
    journal_dir: Path

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def properties(self) -> dict[str, str]:
        return {"alluxio.master.rpc.port": str(self.rpc_port), "alluxio.master.web.port": str(self.web_port),
                "alluxio.master.embedded.journal.port": str(self.journal_port),
                "alluxio.master.journal.folder": str(self.journal_dir)}


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 20) -> None:
        """Ends this process (ours, by its pid): SIGTERM, then SIGKILL if it lingers."""
        if self.alive():
            self.popen.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)


@dataclass
class Timings:
    """Seconds, for the figures the suite prints."""
    format: float = 0.0
    servers: float = 0.0
    """From starting the master to master, workers and proxy all answering."""
    commands: list[tuple[str, float]] = field(default_factory=list)


class RealAlluxio:
    """Start with `start()` (or `with RealAlluxio(...) as cluster:`), stop with `stop()`."""

    def __init__(self, cache_dir: Path, work_dir: Path, *, workers: Iterable[tuple[str, str]], masters: int = 1,
                 block_size: int = MIB, mem_quota: int = 64 * MIB, ssd_quota: int = 256 * MIB,
                 host: str = "127.0.0.1", properties: Mapping[str, str] | None = None) -> None:
        """`workers`: (host, containerHost) of each worker; every host must resolve to loopback. `masters`: more
        than one is an HA set on the embedded journal (Raft): one primary, the others standbys, whose web port
        stays closed (Alluxio's default, alluxio.standby.master.web.enabled=false). `host`: the address the
        master, proxy and job master bind and are reached at (an HA set stays on 127.0.0.1). `properties`: more
        of alluxio-site.properties (the master's cluster defaults reach every client)."""
        self.host = host
        self.extra_properties = dict(properties or {})
        self.java = (cache_dir / "java").read_text().strip()
        self.classpath = (cache_dir / "classpath.txt").read_text().strip()
        self.version = (cache_dir / "versions").read_text().strip()
        self.work = work_dir
        self.conf_dir, self.logs, self.ufs, self.local = (work_dir / d for d in ("conf", "logs", "ufs", "local"))
        self.block_size = block_size
        self.mem_quota, self.ssd_quota = mem_quota, ssd_quota
        self.masters = [Master(free_port(), free_port(), free_port(), work_dir / f"journal-{i}")
                        for i in range(masters)]
        self.master_rpc_port, self.master_web_port = self.masters[0].rpc_port, self.masters[0].web_port
        self.proxy_port = free_port()
        shm = Path("/dev/shm")
        # named now, made by start() and removed by stop(): a cluster never started leaves nothing in /dev/shm
        self.mem_root = (shm / f"alluxio-mem-{uuid.uuid4().hex[:12]}" if shm.is_dir() and os.access(shm, os.W_OK)
                         else work_dir / "mem")
        self.workers = [Worker(host, container, free_port(), free_port(), self.mem_root / f"worker-{i}",
                               work_dir / f"ssd-{i}") for i, (host, container) in enumerate(workers)]
        self.processes: list[Process] = []
        self.timings = Timings()

    @property
    def master_url(self) -> str:
        """The primary's web URL: the one master, or of an HA set the one that answers (a standby's web port closes
        each connection unanswered)."""
        if len(self.masters) == 1:
            return f"http://{self.host}:{self.master_web_port}"
        for master in self.masters:
            if self._answers(master):
                return master.web_url
        raise AlluxioError("no master answers on its web port: no primary")

    @property
    def ha(self) -> bool:
        return len(self.masters) > 1

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.proxy_port}"

    @property
    def mem_on_shm(self) -> bool:
        return self.mem_root.parent == Path("/dev/shm")

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Formats the journal, then starts the master, the workers (as soon as the master listens) and the proxy
        (with the paths-API settings README.md prescribes); returns when all of them answer."""
        try:
            self._write_conf()
            step = time.monotonic()
            for master in self.masters:
                self._run_java("format", "alluxio.cli.Format", ["master"], properties=master.properties())
            self.timings.format = time.monotonic() - step

            step = time.monotonic()
            masters = [self._spawn(f"master-{i}" if self.ha else "master", "alluxio.master.AlluxioMaster",
                                   heap="384m", properties=m.properties()) for i, m in enumerate(self.masters)]
            if self.ha:  # a primary elected: its web port (only a primary's) answers
                self._wait("a primary master", masters, self.primary_answers)
            else:
                self._wait("the master RPC port", masters, lambda: listening(self.host, self.master_rpc_port))
            workers = [self._spawn(f"worker-{i}", "alluxio.worker.AlluxioWorker", heap="256m", direct="256m",
                                   properties=w.properties()) for i, w in enumerate(self.workers)]
            proxy = self.start_proxy("proxy", self.proxy_port, PROXY_PATHS_FIX, wait=False)
            wanted = {w.host for w in self.workers}
            everything = [*masters, *workers, proxy]
            self._wait("the workers", everything,
                       lambda: wanted <= {a["host"] for a in self.live_worker_addresses()})
            self._wait("the proxy", everything, lambda: self.proxy_answers(self.proxy_url))
            self.timings.servers = time.monotonic() - step
        except BaseException:
            self.stop()
            raise

    def start_proxy(self, name: str, port: int, properties: Mapping[str, str], *, wait: bool = True) -> Process:
        """A REST proxy on `port` with these extra properties (the main one has PROXY_PATHS_FIX); with `wait`,
        returns once it answers its info call."""
        proxy = self._spawn(name, "alluxio.proxy.AlluxioProxy", heap="192m",
                            properties={"alluxio.proxy.web.port": str(port), **properties})
        if wait:
            url = f"http://{self.host}:{port}/api/v1/proxy/info"
            self._wait(name, [proxy], lambda: http("GET", url)[0] == 200)
        return proxy

    def stop(self) -> None:
        """Stops every process this cluster started (each by its own pid), then removes the MEM tier dirs."""
        for process in reversed(self.processes):
            if process.alive():
                process.popen.terminate()
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.mem_on_shm:
            shutil.rmtree(self.mem_root, ignore_errors=True)

    def __enter__(self) -> RealAlluxio:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration ----------------------------------------------------------------------------------------

    def site_properties(self) -> dict[str, str]:
        """alluxio-site.properties, shared by every process; each worker adds its own (Worker.properties)."""
        loopback = self.host
        return {
            "alluxio.home": str(self.work),
            "alluxio.work.dir": str(self.work),
            "alluxio.conf.dir": str(self.conf_dir),
            "alluxio.logs.dir": str(self.logs),
            "alluxio.tmp.dirs": str(self.work / "tmp"),
            # every server on loopback, on ports that were free
            "alluxio.master.hostname": loopback,
            "alluxio.master.bind.host": loopback,
            "alluxio.master.web.bind.host": loopback,
            "alluxio.master.rpc.port": str(self.master_rpc_port),
            "alluxio.master.web.port": str(self.master_web_port),
            "alluxio.worker.bind.host": loopback,
            "alluxio.worker.web.bind.host": loopback,
            "alluxio.proxy.web.hostname": loopback,
            "alluxio.proxy.web.bind.host": loopback,
            "alluxio.proxy.web.port": str(self.proxy_port),
            "alluxio.job.master.hostname": loopback,
            "alluxio.job.master.bind.host": loopback,
            "alluxio.job.master.web.bind.host": loopback,
            "alluxio.job.master.rpc.port": str(free_port()),
            "alluxio.job.master.web.port": str(free_port()),
            "alluxio.job.worker.bind.host": loopback,
            "alluxio.job.worker.web.bind.host": loopback,
            # nothing leaves this machine: no update check, no client metrics pushed
            "alluxio.master.update.check.enabled": "false",
            "alluxio.user.metrics.collection.enabled": "false",
            "alluxio.master.daily.backup.enabled": "false",
            # a single master: UFS journal; HA: the embedded journal (below). Heap metastore, root mount a local
            # directory. Each master's ports and journal directory are its own (Master.properties).
            "alluxio.master.journal.type": "UFS",
            "alluxio.master.metastore": "HEAP",
            "alluxio.master.mount.table.root.ufs": str(self.ufs),
            "alluxio.master.journal.tailer.shutdown.quiet.wait.time": "100ms",  # become primary at once
            "alluxio.master.journal.tailer.sleep.time": "100ms",
            "alluxio.master.worker.connect.wait.time": "1sec",
            "alluxio.user.rpc.retry.max.sleep": "1sec",  # no longer than the wait above: loopback answers fast
            "alluxio.master.worker.register.lease.enabled": "false",
            "alluxio.security.authorization.permission.enabled": "false",
            "alluxio.web.ui.enabled": "false",
            "alluxio.master.jvm.monitor.enabled": "false",
            "alluxio.worker.jvm.monitor.enabled": "false",
            # tiered store: MEM above SSD, each small. Blocks stay where they are put (no probabilistic refusal
            # near the quota, no background promotion or alignment), so the layout the tests make is the one read
            "alluxio.worker.tieredstore.levels": "2",
            "alluxio.worker.tieredstore.level0.alias": "MEM",
            "alluxio.worker.tieredstore.level0.dirs.mediumtype": "MEM",
            "alluxio.worker.tieredstore.level0.dirs.quota": str(self.mem_quota),
            "alluxio.worker.ramdisk.size": str(self.mem_quota),
            "alluxio.worker.tieredstore.level1.alias": "SSD",
            "alluxio.worker.tieredstore.level1.dirs.mediumtype": "SSD",
            "alluxio.worker.tieredstore.level1.dirs.quota": str(self.ssd_quota),
            "alluxio.worker.reviewer.class": "alluxio.worker.block.reviewer.AcceptingReviewer",
            "alluxio.worker.management.tier.align.enabled": "false",
            "alluxio.worker.management.tier.promote.enabled": "false",
            "alluxio.worker.block.heartbeat.interval": "200ms",
            # small blocks, so a few MiB make files of several blocks; written files are cached and persisted
            "alluxio.user.block.size.bytes.default": str(self.block_size),
            "alluxio.user.file.writetype.default": "CACHE_THROUGH",
            **self.extra_properties,
        }

    def ha_properties(self) -> dict[str, str]:
        """The embedded journal of the HA set: every master's journal address; every client (workers, proxy, CLIs)
        finds the primary among the RPC addresses. Elections in seconds rather than Alluxio's 10 to 20."""
        return {
            "alluxio.master.journal.type": "EMBEDDED",
            "alluxio.master.embedded.journal.addresses": ",".join(f"127.0.0.1:{m.journal_port}" for m in self.masters),
            "alluxio.master.rpc.addresses": ",".join(f"127.0.0.1:{m.rpc_port}" for m in self.masters),
            "alluxio.master.embedded.journal.election.timeout.min": "2s",
            "alluxio.master.embedded.journal.election.timeout.max": "4s",
        }

    def _write_conf(self) -> None:
        for d in (self.conf_dir, self.logs, self.ufs, self.local, self.work / "tmp",
                  *(m.journal_dir for m in self.masters)):
            d.mkdir(parents=True, exist_ok=True)
        for w in self.workers:
            w.mem_dir.mkdir(parents=True, exist_ok=True)
            w.ssd_dir.mkdir(parents=True, exist_ok=True)
        properties = {**self.site_properties(), **(self.ha_properties() if self.ha else {})}
        lines = [f"{k}={v}" for k, v in properties.items()]
        (self.conf_dir / "alluxio-site.properties").write_text("\n".join(lines) + "\n")
        (self.conf_dir / "log4j.properties").write_text(_LOG4J.format(level="INFO"))
        (self.conf_dir / "log4j-cli.properties").write_text(_LOG4J.format(level="WARN"))

    # -- processes --------------------------------------------------------------------------------------------

    def _jvm(self, main: str, args: list[str], *, heap: str, properties: Mapping[str, str] | None = None,
             direct: str | None = None, cli: bool = False) -> list[str]:
        log4j = self.conf_dir / ("log4j-cli.properties" if cli else "log4j.properties")
        command = [self.java, f"-Xmx{heap}", "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true",
                   f"-Dalluxio.home={self.work}", f"-Dalluxio.conf.dir={self.conf_dir}",
                   f"-Dalluxio.logs.dir={self.logs}", f"-Dlog4j.configuration=file:{log4j}"]
        if cli:
            command.append("-XX:TieredStopAtLevel=1")  # short-lived: start fast rather than run fast
        if direct:
            command.append(f"-XX:MaxDirectMemorySize={direct}")
        command += [f"-D{k}={v}" for k, v in (properties or {}).items()]
        return command + ["-cp", self.classpath, main, *args]

    def worker_argv(self, properties: Mapping[str, str], *, heap: str = "256m", direct: str = "256m") -> list[str]:
        """The command line of a worker with these properties of its own, for a process this class does not start
        (a worker pod's container)."""
        return self._jvm("alluxio.worker.AlluxioWorker", [], heap=heap, properties=properties, direct=direct)

    def _spawn(self, name: str, main: str, *, heap: str, properties: Mapping[str, str] | None = None,
               direct: str | None = None) -> Process:
        log = self.logs / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(self._jvm(main, [], heap=heap, properties=properties, direct=direct),
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=self.work,
                                     start_new_session=True)
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def _run_java(self, what: str, main: str, args: list[str], *,
                  properties: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        """A short-lived JVM (a CLI) that must exit 0 within START_TIMEOUT."""
        start = time.monotonic()
        command = self._jvm(main, args, heap="256m", properties=properties, cli=True)
        run = subprocess.run(command, capture_output=True, encoding="utf-8", errors="replace",
                             timeout=START_TIMEOUT, cwd=self.work, stdin=subprocess.DEVNULL)
        self.timings.commands.append((f"{what} {' '.join(args)}", time.monotonic() - start))
        if run.returncode != 0:
            raise AlluxioError(f"`{what} {' '.join(args)}` exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
        return run

    def _wait(self, what: str, processes: list[Process], ready: Callable[[], bool],
              timeout: float = START_TIMEOUT) -> None:
        def answering() -> bool:
            for process in processes:
                if not process.alive():
                    raise AlluxioError(f"{process.name} exited {process.popen.returncode} while waiting for "
                                       f"{what}:\n{process.tail()}")
            return ready()

        try:
            eventually(answering, timeout, what=f"{what} ready", interval=0.1, failure=_NotReady,
                       ignoring=(OSError, ValueError, KeyError, TypeError))
        except _NotReady as error:
            tails = "\n".join(f"--- {p.name} ({p.log})\n{p.tail()}" for p in processes)
            raise AlluxioError(f"{error}:\n{tails}") from None

    # -- the CLIs ---------------------------------------------------------------------------------------------

    def fs(self, *args: str, client_host: str | None = None,
           properties: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        """`alluxio fs ARGS` as a client on `client_host`: Alluxio's LocalFirstPolicy then picks that worker."""
        props = dict(properties or {})
        if client_host:
            props["alluxio.user.hostname"] = client_host
        return self._run_java("fs", "alluxio.cli.fs.FileSystemShell", list(args), properties=props)

    def fs_argv(self, *args: str, properties: Mapping[str, str]) -> list[str]:
        """The command line of `alluxio fs ARGS` with these properties, for a process started elsewhere (on a
        node of tests/cluster)."""
        return self._jvm("alluxio.cli.fs.FileSystemShell", list(args), heap="256m", properties=properties, cli=True)

    def fsadmin(self, *args: str) -> subprocess.CompletedProcess:
        return self._run_java("fsadmin", "alluxio.cli.fsadmin.FileSystemAdminShell", list(args))

    # -- HTTP -------------------------------------------------------------------------------------------------

    def master_info(self) -> dict[str, Any]:
        status, body = http("GET", f"{self.master_url}/api/v1/master/info")
        if status != 200:
            raise AlluxioError(f"master info answered {status}: {body[:500]!r}")
        return json.loads(body)

    def live_worker_addresses(self) -> list[dict[str, Any]]:
        return [w["address"] for w in self.master_info()["workers"]]

    def primary_answers(self) -> bool:
        """Some master serves its info on its web port: the primary, once elected."""
        return any(self._answers(master) for master in self.masters)

    @staticmethod
    def _answers(master: Master) -> bool:
        try:
            return http("GET", f"{master.web_url}/api/v1/master/info", timeout=5)[0] == 200
        except OSError:  # refused (not started), or reset (a standby)
            return False

    @staticmethod
    def proxy_answers(proxy_url: str) -> bool:
        status, body = http("POST", paths_url(proxy_url, "/", "get-status"), b"{}")
        return status == 200 and body.startswith(b"{")

    def worker_inventory(self, worker: Worker) -> Inventory:
        """What this worker says it stores, from its own block store (its web API's `webui_blockinfo`), not from
        the master's block locations."""
        found: Inventory = {}
        offset, limit = 0, 1000
        while True:
            status, body = http("GET", f"{worker.web_url}/api/v1/worker/webui_blockinfo?offset={offset}&limit={limit}")
            if status != 200:
                raise AlluxioError(f"worker {worker.host} webui_blockinfo answered {status}: {body[:500]!r}")
            page = json.loads(body)
            if page.get("fatalError"):
                raise AlluxioError(f"worker {worker.host} webui_blockinfo: {page['fatalError']}")
            for info in page["fileInfos"] or []:
                blocks = found.setdefault(info["absolutePath"], {})
                for tier, tier_blocks in (info["blocksOnTier"] or {}).items():
                    for block in tier_blocks:
                        blocks[block["id"]] = (block["blockLength"], tier)
            offset += limit
            if offset >= page["ntotalFile"]:
                return found

    def inventories(self) -> dict[str, Inventory]:
        """worker_inventory of every worker, by worker host."""
        return {w.host: self.worker_inventory(w) for w in self.workers}

    # -- making data ------------------------------------------------------------------------------------------

    def put_ufs(self, path: str, size: int) -> None:
        """A file of `size` random bytes straight into the UFS: Alluxio knows it only once it loads metadata."""
        target = self.ufs / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(os.urandom(size))

    def mkdir_ufs(self, path: str) -> None:
        (self.ufs / path.lstrip("/")).mkdir(parents=True, exist_ok=True)

    def write(self, path: str, size: int, *, client_host: str, block_size: int | None = None, tier: int = 0,
              round_robin: bool = False) -> None:
        """A file written through Alluxio (CACHE_THROUGH: cached as written, and persisted): its blocks go to the
        worker of `client_host`, or to each worker in turn with `round_robin`; into tier `tier` (0 MEM, 1 SSD)."""
        local = self.local / f"{len(list(self.local.iterdir()))}.bin"
        local.write_bytes(os.urandom(size))
        policy = "RoundRobinPolicy" if round_robin else "LocalFirstPolicy"
        properties = {"alluxio.user.file.copyfromlocal.block.location.policy.class":
                      f"alluxio.client.block.policy.{policy}",
                      "alluxio.user.file.write.tier.default": str(tier)}
        if block_size:
            properties["alluxio.user.block.size.bytes.default"] = str(block_size)
        self.fs("copyFromLocal", str(local), path, client_host=client_host, properties=properties)

    def read_head(self, path: str, nbytes: int, *, client_host: str) -> None:
        """Reads the first `nbytes` with the default CACHE read type from `client_host`: the blocks read whole are
        cached on that host's worker, and a block read in part is cached there asynchronously."""
        self.fs("head", "-c", str(nbytes), path, client_host=client_host)

    def load(self, path: str, *, client_host: str) -> None:
        """`alluxio fs load --local`: every block of every file beneath `path` cached on `client_host`'s worker."""
        self.fs("load", "--local", path, client_host=client_host)

    def settle(self, expect: Callable[[dict[str, Inventory]], bool], *, timeout: float = 60,
               quiet: float = 0.5) -> dict[str, Inventory]:
        """Waits until the workers' inventories satisfy `expect`, agree with the master's count of blocks per
        worker, and have stayed unchanged for `quiet` seconds (asynchronous caching and block reports done)."""
        began = time.monotonic()
        last: dict[str, Inventory] | None = None
        since, state = began, ""

        def settled() -> dict[str, Inventory] | None:
            nonlocal last, since, state
            now = self.inventories()
            counts = {w["address"]["host"]: w["blockCount"] for w in self.master_info()["workers"]}
            mine = {host: sum(len(blocks) for blocks in files.values()) for host, files in now.items()}
            state = f"workers hold {now}, the master counts {counts}"
            if now != last:
                last, since = now, time.monotonic()
                return None
            return now if expect(now) and counts == mine and time.monotonic() - since >= quiet else None

        try:
            inventories = eventually(settled, timeout, interval=0.1, failure=_NotReady)
        except _NotReady:
            raise AlluxioError(f"Alluxio did not settle in {timeout} s: {state}") from None
        self.timings.commands.append(("settle", time.monotonic() - began))
        return inventories


def listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
