"""The one-box cluster from the command line (as root):

    python -m tests.cluster compare              # up, the default comparison, the table, down
    python -m tests.cluster compare --size 256MiB --rates 200mbit --rounds 1
    python -m tests.cluster up                   # up until Ctrl-C (prints where everything is)
    python -m tests.cluster down                 # removes what a crashed run left (namespaces and what runs there)
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from tests.cluster import network
from tests.cluster.cluster import OneBox, Settings, logging_to_stderr
from tests.cluster.comparison import Plan, compare, table
from tests.cluster.shapes import RATES, default_plan, parse_size


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("compare", "up", "down"))
    parser.add_argument("--nodes", type=int, default=Settings.nodes)
    parser.add_argument("--size", default="1536MiB", help="each shape's input (default 1536MiB)")
    parser.add_argument("--rates", default=",".join(RATES), help="link rates of the first shape (tc units)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--spark", default=",".join(Settings.spark_versions),
                        help="pyspark versions, the first one for every shape (default: spark-versions.txt's)")
    parser.add_argument("--json", type=Path, help="also write the rounds here")
    args = parser.parse_args(argv)
    logging_to_stderr()
    if args.command == "down":
        network.clean()
        return 0
    sparks = args.spark.split(",")
    settings = Settings(nodes=args.nodes, spark_versions=tuple(sparks))
    with OneBox(settings) as box:
        if args.command == "up":
            assert box.alluxio is not None and box.plane is not None
            print(f"up: API server {box.plane.url} (admin kubeconfig {box.plane.dir / 'admin.kubeconfig'}), "
                  f"Alluxio master {box.alluxio.master_url}, nodes {[n.ip for n in box.network.nodes]}; "
                  f"Ctrl-C takes it down", flush=True)
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
            return 0
        plan: Plan = default_plan(parse_size(args.size), args.rates.split(","), sparks, args.rounds)
        results = compare(box, plan)
    print("\n".join(table(results)))
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
