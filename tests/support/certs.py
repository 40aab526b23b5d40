"""Throwaway PKI for the TLS tests, made with the openssl CLI, laid out as cert-manager issues it: one CA signs the
extender's serving certificate (for 127.0.0.1 and localhost), another the scheduler's client certificate, so a
test fails if one CA is used for both directions; and client certificates the extender must refuse."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pki:
    server_ca: Path
    """Signed the serving certificate: what a client verifies the extender with (the extender Secret's ca.crt)."""
    client_ca: Path
    """Signed the client certificate: the extender's --tls-client-ca-file (the scheduler Secret's ca.crt)."""
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path
    """A client certificate signed by another CA."""
    rogue_key: Path
    server_ca_client_cert: Path
    """A client certificate signed by the serving certificate's CA, which is no client CA."""
    server_ca_client_key: Path


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}")
    return cert, key


def _signed(directory: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    cert, key, csr, ext = (directory / f"{name}.{s}" for s in ("crt", "key", "csr", "ext"))
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", csr, "-subj", f"/CN={name}")
    ext.write_text(extensions)
    _openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial", "-out", cert,
             "-days", "2", "-extfile", ext)
    return cert, key


def make_pki(directory: Path) -> Pki:
    server_ca, client_ca = _ca(directory, "extender-ca"), _ca(directory, "scheduler-ca")
    client_auth = "extendedKeyUsage=clientAuth\n"
    server = _signed(directory, "extender", server_ca,
                     "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    client = _signed(directory, "kube-scheduler", client_ca, client_auth)
    rogue = _signed(directory, "intruder", _ca(directory, "rogue-ca"), client_auth)
    misissued = _signed(directory, "server-ca-client", server_ca, client_auth)
    return Pki(server_ca[0], client_ca[0], *server, *client, *rogue, *misissued)
