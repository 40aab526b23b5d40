"""One client connection that sends bytes exactly as given and reads answers exactly as they come: what the HTTP
server tests speak, where a client library would fix up, refuse or hide what is under test."""
from __future__ import annotations

import json
import select
import socket
import ssl
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    """Names lower-cased."""
    body: bytes

    def json(self) -> Any:
        assert self.headers.get("content-type") == "application/json", self
        return json.loads(self.body)


class RawConnection:
    def __init__(self, port: int, timeout: float = 10.0, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: speak HTTPS with this client context (the handshake is done here)."""
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = sock if tls is None else tls.wrap_socket(sock, server_hostname="127.0.0.1")
        self._buf = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, head_only: bool = False) -> Answer:
        """The next answer; a 1xx is an answer of its own. `head_only`: it has no body, as one to HEAD.
        Raises ConnectionError when the server closes before a whole one."""
        while (end := self._buf.find(b"\r\n\r\n")) < 0:
            self._fill()
        lines = bytes(self._buf[:end]).decode("latin-1").split("\r\n")
        del self._buf[:end + 4]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(lines[0].split()[1])
        length = 0 if head_only or status < 200 else int(headers["content-length"])
        while len(self._buf) < length:
            self._fill()
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return Answer(status, headers, body)

    def after(self, within: float) -> tuple[bytes, bool]:
        """What the server sends past the answers read, until it closes or `within` seconds pass with nothing
        more, and whether it closed: (b"", True) after a refusal, (b"", False) for a connection kept open.
        Plain connections only (TLS may hold bytes a select cannot see)."""
        received = bytes(self._buf)
        self._buf.clear()
        while select.select([self.sock], [], [], within)[0]:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return received, True
            if not chunk:
                return received, True
            received += chunk
        return received, False

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a whole answer (received {bytes(self._buf[:300])!r})")
        self._buf += chunk

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
