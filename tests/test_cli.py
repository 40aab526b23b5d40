"""The `scheduler-extender` command as a new user meets it: --version, and mistakes that stop `serve` at once
with one line naming the setting (exit status 2) instead of a gunicorn retry loop or a YAML parser's trace."""
from __future__ import annotations

import configparser
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler_extender.cli import check_bind
from scheduler_extender.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo" / "locations.json"


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scheduler_extender", *args], capture_output=True, text=True,
                          timeout=60)


def refused(*flags: str) -> str:
    """`serve` with these flags must exit 2 before serving; its one line of stderr."""
    result = command("serve", "--locations-file", str(DEMO), *flags)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("scheduler-extender: "), result.stderr
    assert "gunicorn" not in result.stderr.lower() and "Can't connect" not in result.stderr
    return lines[0]


def test_version_is_the_packages():
    metadata = configparser.ConfigParser()
    metadata.read(ROOT / "setup.cfg")
    result = command("--version")
    assert result.returncode == 0 and result.stdout == f"scheduler-extender {metadata['metadata']['version']}\n"


def test_a_port_in_use_is_one_line_naming_bind():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = refused("--bind", f"127.0.0.1:{port}")
    assert line == (f"scheduler-extender: --bind 127.0.0.1:{port}: cannot listen there: Address already in use "
                    f"(another process is listening on that port)")


@pytest.mark.parametrize("bind,says", [
    ("192.0.2.1:8888", "Cannot assign requested address (no network interface of this host has that address)"),
    ("no-such-host.invalid:8888", "cannot listen there: "),
])
def test_an_address_that_cannot_be_bound_is_one_line_naming_bind(bind, says):
    line = refused("--bind", bind)
    assert line.startswith(f"scheduler-extender: --bind {bind}: cannot listen there: ") and says in line


def test_the_bind_check_lets_the_port_go():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    check_bind(f"127.0.0.1:{port}")
    with socket.socket() as server:  # nothing of the check holds it
        server.bind(("127.0.0.1", port))
        server.listen()
        with pytest.raises(ConfigError, match="Address already in use"):
            check_bind(f"127.0.0.1:{port}")


def test_an_empty_selector_value_stops_serve():
    assert refused("--worker-selector", "role==") == (
        'scheduler-extender: --worker-selector: "role==" is not a label selector: the value after role== is '
        "empty (Kubernetes would match only pods whose label role is the empty string)")


def test_a_node_map_that_is_not_yaml_names_its_file_and_line(tmp_path):
    node_map = tmp_path / "nodes.yaml"
    node_map.write_text("10.0.0.1: node-a\n10.0.0.2: [node-b\n")
    assert refused("--node-map", str(node_map)) == (
        f"scheduler-extender: --node-map: {node_map}, line 3 column 1: not valid YAML: expected ',' or ']', but got "
        "'<stream end>' (while parsing a flow sequence)")


@pytest.mark.parametrize("flags, line", [
    (("--threads", "100000"), '--threads: "100000" must be at most 256'),
    (("--fetch-threads", "0"), '--fetch-threads: "0" must be at least 1'),
    (("--index-ttl", "-5s"), '--index-ttl: "-5s" must not be negative'),
    (("--request-budget", "-1"), '--request-budget: "-1" must not be negative'),
    (("--index-ttl", "1h30m"), '--index-ttl: "1h30m" is not a duration (use 50ms, 30s, 5m, 1h)'),
])
def test_a_value_out_of_bounds_is_one_line_naming_its_flag(flags, line):
    assert refused(*flags) == f"scheduler-extender: {line}"


def test_a_url_with_a_space_in_its_host_stops_serve_at_start():
    result = command("serve", "--alluxio-proxy", "http://alluxio proxy:39999")
    assert result.returncode == 2 and result.stderr == (
        'scheduler-extender: --alluxio-proxy: "http://alluxio proxy:39999" has \'alluxio proxy\' for a host, which '
        "is no host name or IP address\n")


@pytest.mark.parametrize("argv", [("serve", "--threads"), ("serve", "--no-such-flag"), ("locate",)])
def test_a_usage_error_is_one_line_not_the_whole_usage(argv):
    result = command(*argv)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("scheduler-extender") and "--help)" in result.stderr


@pytest.mark.parametrize("content, says", [
    (None, "cannot be read (No such file or directory)"),
    ("[{\"ServiceEntityName\": \"w\"}]", "a membership entry without WorkerNetAddress"),
    ("[1,", "not JSON (unexpected end of data"),
])
def test_locate_names_a_workers_file_it_cannot_use_in_one_line(tmp_path, content, says):
    workers = tmp_path / "workers.json"
    if content is not None:
        workers.write_text(content)
    result = command("locate", "--alluxio3-workers", str(workers), "/a")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"scheduler-extender: --alluxio3-workers: {workers}: {says}"), result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
