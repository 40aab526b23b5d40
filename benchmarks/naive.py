"""The naive peer: an extender with no index, that asks Alluxio for every path of every request.

    python -m benchmarks.naive --alluxio-proxy URL --bind HOST:PORT

Per /prioritize: parse with `scheduler_extender.protocol`, read the pod's paths with
`scheduler_extender.workload`, fetch each path in turn with `AlluxioRestSource` (one recursive
list-status per path, no cache), place workers with the request's own names or Node objects
(a fresh `scheduler_extender.placement.Placement` per request, over the entries as the sync process would
send them), and score with `scoring`: the same answer as the real extender's, computed from scratch. /filter
passes every candidate, as the real one does for pods that do not require a local worker (it needs no Alluxio
data). Served by gunicorn with the
real server's settings (`scheduler_extender.cli.gunicorn_options`: one worker of ours, the same threads and
keep-alive).
"""
from __future__ import annotations

import argparse
from typing import Any

import orjson
from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication

from scheduler_extender import scoring
from scheduler_extender.cli import gunicorn_options
from scheduler_extender.config import Settings
from scheduler_extender.entries import decode, encode
from scheduler_extender.locations.alluxio_rest import AlluxioRestSource
from scheduler_extender.locations.base import SourceError
from scheduler_extender.metrics import SourceMetrics
from scheduler_extender.placement import Placement
from scheduler_extender.protocol import ProtocolError, parse_args, render_filter, render_priorities
from scheduler_extender.workload import workload_of
from tests.support.settings import load_settings


def make_app(source: AlluxioRestSource) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 << 20

    def reply(body: Any, status: int = 200) -> Response:
        encoded = body if isinstance(body, bytes) else orjson.dumps(body)
        return Response(encoded, status, mimetype="application/json")

    @app.post("/prioritize")
    def prioritize() -> Response:
        try:
            args = parse_args(request.get_data(cache=False))
        except ProtocolError as err:
            return reply({"Error": str(err)}, 400)
        paths = workload_of(args.pod).paths
        entries = []
        for path in paths:
            try:
                entries.append(decode(encode(source.fetch(path))))
            except SourceError:
                pass  # neutral for that path, as the real extender is without data
        by_node = Placement([]).node_bytes(entries, args.node_names, args.nodes)
        return reply(render_priorities(args.node_names, scoring.scores(args.node_names, by_node)))

    @app.post("/filter")
    def filter_() -> Response:
        try:
            args = parse_args(request.get_data(cache=False))
        except ProtocolError as err:
            return reply({"Error": str(err)}, 400)
        return reply(render_filter(args, range(len(args.node_names)), {}, {}))

    @app.get("/healthz")
    def healthz() -> Response:
        return reply({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Response:
        try:
            source.probe()
        except SourceError as err:
            return reply({"status": str(err)}, 503)
        return reply({"status": "ready"})

    return app


class NaiveServer(BaseApplication):
    def __init__(self, options: dict[str, Any], source: AlluxioRestSource, settings: Settings) -> None:
        self.options, self.source = options, source
        self.settings = settings  # what our worker reads its --read-timeout and --max-body-size from
        super().__init__(prog="naive-extender")

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:  # the Flask app, typed as cli.ExtenderServer.load types it
        return make_app(self.source)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.naive")
    parser.add_argument("--alluxio-proxy", required=True)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    source = AlluxioRestSource(args.alluxio_proxy, timeout=60, retries=2, metrics=SourceMetrics())
    settings = load_settings(["--bind", args.bind, "--threads", str(args.threads),
                              "--alluxio-proxy", args.alluxio_proxy], {})
    options = gunicorn_options(settings)
    options["proc_name"] = "naive-extender"
    NaiveServer(options, source, settings).run()


if __name__ == "__main__":
    main()
