"""HTTPS, client certificates and who may call the operator endpoints, against the served extender."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scheduler_extender.config import ConfigError
from scheduler_extender.serve import create_app, open_inputs
from tests.support.bodies import names_body
from tests.support.certs import Pki, make_pki
from tests.support.served import Served
from tests.support.settings import load_settings

DEMO = Path(__file__).parent.parent / "examples" / "demo" / "locations.json"
SOURCE = ("--locations-file", str(DEMO))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def client(pki: Pki, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """A client that trusts the CA of the extender's serving certificate and presents `cert` if given."""
    context = ssl.create_default_context(cafile=str(pki.server_ca))
    if cert:
        context.load_cert_chain(str(cert), str(key))
    return context


def tls_flags(pki: Pki, *, client_ca: bool) -> tuple[str, ...]:
    flags = ("--tls-cert-file", str(pki.server_cert), "--tls-private-key-file", str(pki.server_key))
    return flags + (("--tls-client-ca-file", str(pki.client_ca)) if client_ca else ())


def test_serves_https_and_plain_http_gets_no_answer(pki: Pki) -> None:
    with Served(*SOURCE, *tls_flags(pki, client_ca=False), tls=client(pki)) as served:
        status, ranking = served.post("/prioritize", names_body(["node-2", "node-3"], "/data/sales/2026-11"))
        assert status == 200 and ranking == [{"Host": "node-2", "Score": 10}]
        plain = f"http://127.0.0.1:{served.port}/healthz"
        try:
            answer = urllib.request.urlopen(plain, timeout=5)
        except urllib.error.HTTPError as refused:  # gunicorn answers the failed handshake with a 400
            assert refused.code == 400
        except (urllib.error.URLError, ConnectionError):
            pass
        else:
            pytest.fail(f"plain HTTP was answered {answer.status}")


def test_client_ca_requires_a_certificate_for_the_verbs_but_not_for_probes(pki: Pki) -> None:
    body = names_body(["node-2", "node-3"], "/data/sales/2026-11")
    with Served(*SOURCE, *tls_flags(pki, client_ca=True), tls=client(pki)) as anonymous:
        assert anonymous.get("/healthz")[0] == 200 and anonymous.get("/readyz")[0] == 200  # kubelet probes
        for verb in ("/filter", "/prioritize"):
            status, answer = anonymous.post(verb, body)
            assert status == 403 and "client certificate" in answer["Error"]
        anonymous.tls = client(pki, pki.client_cert, pki.client_key)
        assert anonymous.post("/prioritize", body) == (200, [{"Host": "node-2", "Score": 10}])
        assert anonymous.post("/filter", body)[1]["NodeNames"] == ["node-2", "node-3"]
        assert anonymous.metrics().value("scheduler_extender_requests_total", outcome="refused", verb="prioritize") == 1
        for cert, key in ((pki.rogue_cert, pki.rogue_key), (pki.server_ca_client_cert, pki.server_ca_client_key)):
            anonymous.tls = client(pki, cert, key)
            with pytest.raises((urllib.error.URLError, ConnectionError, ssl.SSLError)):
                anonymous.post("/prioritize", body)


def test_the_client_ca_and_the_serving_certificates_ca_are_apart(pki: Pki) -> None:
    """cert-manager's layout: each Secret's ca.crt is the issuer of its own certificate, so the scheduler verifies
    the extender with one CA and the extender its callers with another; neither stands in for the other."""
    body = names_body(["node-2", "node-3"], "/data/sales/2026-11")
    with Served(*SOURCE, *tls_flags(pki, client_ca=True), tls=client(pki, pki.client_cert, pki.client_key)) as served:
        assert served.post("/prioritize", body) == (200, [{"Host": "node-2", "Score": 10}])
        wrong_trust = ssl.create_default_context(cafile=str(pki.client_ca))
        wrong_trust.load_cert_chain(str(pki.client_cert), str(pki.client_key))
        served.tls = wrong_trust
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            served.post("/prioritize", body)
    with Served(*SOURCE, *tls_flags(pki, client_ca=False), "--tls-client-ca-file", str(pki.server_ca),
                tls=client(pki)) as one_ca:
        one_ca.tls = client(pki, pki.client_cert, pki.client_key)
        with pytest.raises((urllib.error.URLError, ConnectionError, ssl.SSLError)):
            one_ca.post("/prioritize", body)


def test_operator_endpoints_can_be_turned_off_or_restricted(pki: Pki) -> None:
    with Served(*SOURCE, *tls_flags(pki, client_ca=True), "--locality-access", "off",
                "--metrics-access", "client-cert", tls=client(pki)) as served:
        status, answer = served.get("/locality?path=/data")
        assert status == 404 and "turned off" in answer["Error"]
        status, answer = served.get("/metrics")
        assert status == 403 and "client certificate" in answer["Error"]
        served.tls = client(pki, pki.client_cert, pki.client_key)
        assert served.get("/locality?path=/data")[0] == 404
        status, text = served.get("/metrics")
        assert status == 200 and "scheduler_extender_requests_total" in text


def test_loopback_access_serves_loopback_callers_over_http() -> None:
    with Served(*SOURCE, "--locality-access", "loopback", "--metrics-access", "loopback") as served:
        status, report = served.get("/locality?path=/data/sales/2026-11")
        assert status == 200 and report["nodes"][0]["node"] == "node-2"
        assert served.get("/metrics")[0] == 200


@pytest.mark.parametrize(("address", "allowed"), [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.244.1.7", False), ("::ffff:10.0.0.1", False), ("fe80::1", False), ("", False),
])
def test_loopback_access_refuses_every_other_address(address: str, allowed: bool) -> None:
    """No test may send traffic from a non-loopback address, so the app sees one in its WSGI environ."""
    settings = load_settings([*SOURCE, "--locality-access", "loopback", "--metrics-access", "off"], {})
    app = create_app(settings, open_inputs(settings))
    answer = app.test_client().get("/locality?path=/data", environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == (200 if allowed else 403)
    if not allowed:
        assert "only on loopback" in answer.get_json()["Error"]
    assert app.test_client().get("/metrics").status_code == 404


def test_tls_settings_must_come_together_and_load(pki: Pki, tmp_path: Path) -> None:
    cert, key, ca = str(pki.server_cert), str(pki.server_key), str(pki.client_ca)
    with pytest.raises(ConfigError, match="--tls-cert-file: .* needs --tls-private-key-file too"):
        load_settings([*SOURCE, "--tls-cert-file", cert], {})
    with pytest.raises(ConfigError, match="--tls-client-ca-file: .* only used when serving HTTPS"):
        load_settings([*SOURCE, "--tls-client-ca-file", ca], {})
    with pytest.raises(ConfigError, match="--metrics-access: \"client-cert\" needs --tls-client-ca-file"):
        load_settings([*SOURCE, "--metrics-access", "client-cert"], {})
    with pytest.raises(ConfigError,
                       match="--locality-access: \"public\" is not one of open, loopback, client-cert, off"):
        load_settings([*SOURCE, "--locality-access", "public"], {})
    mismatched = load_settings([*SOURCE, "--tls-cert-file", cert, "--tls-private-key-file",
                                str(pki.client_key)], {})
    with pytest.raises(ConfigError, match="not a matching PEM certificate and key"):
        open_inputs(mismatched)
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text(json.dumps({"not": "a certificate"}))
    broken_ca = load_settings([*SOURCE, "--tls-cert-file", cert, "--tls-private-key-file", key,
                               "--tls-client-ca-file", str(not_pem)], {})
    with pytest.raises(ConfigError, match="--tls-client-ca-file: no PEM CA certificate"):
        open_inputs(broken_ca)
