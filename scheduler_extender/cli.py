"""The `scheduler-extender` command: `serve` runs the extender under gunicorn inside this process."""
from __future__ import annotations

import argparse
import errno
import os
import socket
import ssl
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any, NoReturn

from gunicorn.app.base import BaseApplication

from . import config
from .config import ConfigError, Settings
from .locate import members_from_file, owners
from .serve import Inputs, create_app, open_inputs

PROG = "scheduler-extender"

KEEPALIVE_SECONDS = 120
"""Longer than the 90 s after which kube-scheduler's extender client (a Go http.Transport with
Kubernetes' transport defaults) drops an idle connection. The client therefore always closes first, and
never sends a POST down a connection the server is closing at that instant, which Go does not retry."""


class ExtenderServer(BaseApplication):
    """gunicorn serving the Flask app: one worker process of our class (worker.py: requests are read whole
    without a thread, then answered by one of `settings.threads`), which reads `settings` from here.

    One process, because the process holds the block-location index and its sync loop in memory: several
    processes would each hold, sync and warm their own index and answer from different ones. Threads are
    enough because kube-scheduler calls the extender for one pod at a time. The app is created in `load`,
    which runs in the worker after the fork, because it starts background threads that a fork would not
    carry over; `preload_app` stays off for the same reason.
    """

    def __init__(self, settings: Settings, inputs: Inputs) -> None:
        self.settings = settings
        self.inputs = inputs
        super().__init__(prog=PROG)

    def load_config(self) -> None:
        for name, value in gunicorn_options(self.settings).items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        return create_app(self.settings, self.inputs)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn settings for `settings`; set in code so no gunicorn.conf.py or GUNICORN_CMD_ARGS applies."""
    return {
        "bind": [settings.bind],
        "workers": 1,
        "worker_class": "scheduler_extender.worker.ExtenderWorker",
        "threads": settings.threads,
        "keepalive": KEEPALIVE_SECONDS,
        # The worker's main loop beats the heartbeat while threads serve, so this only bounds a stuck
        # worker, and the worker's start-up: create_app must not block for this long.
        "timeout": 30,
        # Requests take milliseconds; inside Kubernetes' default 30 s termination grace period.
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level,
        "proc_name": PROG,
        # gunicorn's control socket can change the worker count at run time, and would be written
        # under $HOME, which may be read-only in a container.
        "control_socket_disable": True,
        # The heartbeat file is fchmod-ed every second; on a disk-backed /tmp that can stall the worker.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        **tls_options(settings),
    }


def tls_options(settings: Settings) -> dict[str, Any]:
    """HTTPS when a certificate is set. A client CA makes the handshake verify any certificate a client
    presents (CERT_OPTIONAL, not REQUIRED: kubelet's HTTPS probes present none), and the app then refuses
    the scheduling verbs to callers that presented none. Python's default context already refuses
    anything older than TLS 1.2."""
    if not settings.tls_cert_file:
        return {}
    options: dict[str, Any] = {"certfile": settings.tls_cert_file, "keyfile": settings.tls_private_key_file}
    if settings.tls_client_ca_file:
        options.update(ca_certs=settings.tls_client_ca_file, cert_reqs=ssl.CERT_OPTIONAL)
    return options


_BIND_FAILURES = {
    errno.EADDRINUSE: "another process is listening on that port",
    errno.EADDRNOTAVAIL: "no network interface of this host has that address",
    errno.EACCES: "ports below 1024 need privileges",
}


def check_bind(bind: str) -> None:
    """Bind --bind once, as gunicorn will (SO_REUSEADDR, IPv6 for a bracketed host), and let it go: gunicorn
    retries an address it cannot bind five times, a second apart, then exits with "Can't connect"; this
    says why in one line instead. Raises ConfigError."""
    host, _, port = bind.rpartition(":")
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host.strip("[]"), int(port)))
    except OSError as err:
        reason = err.strerror or str(err)
        hint = _BIND_FAILURES.get(err.errno or 0)
        raise ConfigError(f"--bind {bind}: cannot listen there: {reason}" + (f" ({hint})" if hint else "")) from None


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script and of `python -m scheduler_extender`. Usage and configuration
    errors exit with status 2."""
    parser = _parser()
    args = parser.parse_args(_dash_values(parser, sys.argv[1:] if argv is None else list(argv)))
    args.run(args)


class _OneLineErrors(argparse.ArgumentParser):
    """A usage error in one line, as a setting's error is: the serve usage lists every setting, screens of
    it, and the line that matters would scroll away above it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _dash_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`--index-ttl -5s` read as `--index-ttl=-5s`: argparse takes a value starting with `-` for a flag it does not
    know and then says only that the flag is missing its value; given whole, the setting's parser says what is
    wrong with it. A word that is one of the command's flags stays a flag."""
    flags = {flag for action in _all_actions(parser) if isinstance(action, argparse._StoreAction)
             for flag in action.option_strings}
    out: list[str] = []
    for word in argv:
        if out and out[-1] in flags and word.startswith("-") and word not in flags and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return out


def _all_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The parser's actions and those of its commands."""
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                actions += _all_actions(command)
    return actions


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(
        prog=PROG, allow_abbrev=False,
        description="kube-scheduler extender that scores nodes by the bytes of a pod's Alluxio input "
                    "their Alluxio workers cache.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('scheduler-extender')}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True,
                                     parser_class=_OneLineErrors)
    serve = commands.add_parser(
        "serve", allow_abbrev=False, help="serve the extender's HTTP API",
        description="Serve kube-scheduler's extender calls. Exactly one of --alluxio-proxy, --locations-file "
                    "and, for Alluxio 3, --alluxio3-etcd, --alluxio3-static-workers or --alluxio3-master is "
                    "required.")
    config.add_arguments(serve)
    serve.set_defaults(run=_serve)
    locate = commands.add_parser(
        "locate", allow_abbrev=False, help="print the Alluxio 3 worker that owns each path",
        description="Print PATH<TAB>WORKER_HOST for each PATH, in order: the worker an Alluxio 3 client reads the "
                    "file through, from the consistent-hash ring over the given workers.")
    locate.add_argument("--alluxio3-workers", required=True, metavar="FILE",
                        help="JSON array of the workers' membership entries as etcd holds them (the values under "
                             "/ServiceDiscovery/<cluster>/)")
    locate.add_argument("--alluxio3-ufs-root", metavar="URI",
                        help="alluxio.dora.client.ufs.root: PATHs are then Alluxio paths; without it they are the "
                             "UFS paths the client hashes")
    locate.add_argument("--alluxio3-virtual-nodes", type=_positive, default=5, metavar="N",
                        help="alluxio.user.consistent.hash.virtual.node.count.per.worker (default 5)")
    locate.add_argument("paths", nargs="+", metavar="PATH")
    locate.set_defaults(run=_locate)
    return parser


def _serve(args: argparse.Namespace) -> None:
    try:
        settings = config.settings_from_args(args, os.environ)
        check_bind(settings.bind)
        inputs = open_inputs(settings)
    except ConfigError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if settings.alluxio_master:
        print(f"{PROG}: warning: --alluxio-master is ignored: readiness follows the proxy, which finds the primary "
              f"master itself (a standby answers no web call); remove it", file=sys.stderr)
    ExtenderServer(settings, inputs).run()


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _locate(args: argparse.Namespace) -> None:
    """Exit status 2 if the workers file cannot be used, 1 if some path has no owner, else 0."""
    try:
        members = members_from_file(args.alluxio3_workers)
    except ValueError as error:
        print(f"{PROG}: --alluxio3-workers: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    failed = False
    for path, host, why in owners(members, args.paths, ufs_root=args.alluxio3_ufs_root,
                                  virtual_nodes=args.alluxio3_virtual_nodes):
        if host is None:
            print(f"{PROG}: {path}: {why}", file=sys.stderr)
            failed = True
        else:
            print(f"{path}\t{host}")
    if failed:
        raise SystemExit(1)
