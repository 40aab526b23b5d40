"""The `scheduler-extender` command: `serve` runs the extender under gunicorn inside this process."""
from __future__ import annotations

import argparse
import os
import ssl
import sys
from typing import Any, Sequence

from gunicorn.app.base import BaseApplication

from . import config
from .app import Inputs, create_app, open_inputs
from .config import ConfigError, Settings

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


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script and of `python -m scheduler_extender`. Usage and configuration
    errors exit with status 2."""
    args = _parser().parse_args(argv)
    args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, allow_abbrev=False,
        description="kube-scheduler extender that scores nodes by the bytes of a pod's Alluxio input "
                    "their Alluxio workers cache.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve", allow_abbrev=False, help="serve the extender's HTTP API",
        description="Serve kube-scheduler's extender calls. Exactly one of --alluxio-proxy and "
                    "--locations-file is required.")
    config.add_arguments(serve)
    serve.set_defaults(run=_serve)
    return parser


def _serve(args: argparse.Namespace) -> None:
    try:
        settings = config.settings_from_args(args, os.environ)
        inputs = open_inputs(settings)
    except ConfigError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    ExtenderServer(settings, inputs).run()
