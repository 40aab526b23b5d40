"""Messages between the serving process and the sync process: marshal-ed tuples, each behind its length.

Both ends run the same installed code, so marshal (fast, C, for the plain values sent) is safe to use.
Messages: to the child `("start", settings)` once, then `("fetch", id, path)`, `("probe", id)`,
`("ping", id)`; from it `("ok", id, entry bytes or None, metrics)`, `("error", id, reason, metrics)` and
`("pong", id, metrics)`, where `metrics` is a relay.py snapshot, or None when unchanged.
"""
from __future__ import annotations

import marshal
import socket
import struct
import threading
from typing import Any

_LENGTH = struct.Struct("!Q")
MAX_MESSAGE = 1 << 31
"""No answer comes near this: an encoded directory of 100,000 blocks is 370 KB."""


class Channel:
    """One end of the socket pair: `send` from any thread, `receive` from one."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._send_lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = marshal.dumps(message)
        with self._send_lock:
            self.sock.sendall(_LENGTH.pack(len(data)) + data)

    def receive(self) -> tuple[Any, ...]:
        """The next message; EOFError when the other end closed, ValueError for one we cannot read."""
        (length,) = _LENGTH.unpack(self._exactly(_LENGTH.size))
        if length > MAX_MESSAGE:
            raise ValueError(f"message of {length} bytes announced")
        message = marshal.loads(self._exactly(length))
        if not isinstance(message, tuple) or not message:
            raise ValueError(f"message is {type(message).__name__}, expected a tuple")
        return message

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _exactly(self, length: int) -> bytearray:
        buffer = bytearray(length)
        view = memoryview(buffer)
        got = 0
        while got < length:
            count = self.sock.recv_into(view[got:])
            if not count:
                raise EOFError("the other end closed the connection")
            got += count
        return buffer
