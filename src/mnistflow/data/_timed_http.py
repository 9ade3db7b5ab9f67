"""HTTP(S) connections that keep to one deadline: every connect, send and receive waits only the
time the attempt has left, so a server that drips its status line, headers, chunk sizes or body one
byte at a time cannot stretch an attempt past it. Used by :mod:`mnistflow.data.download`."""

from __future__ import annotations

import http.client
import io
import socket
import time
from functools import partial
from typing import TYPE_CHECKING
from urllib.request import HTTPHandler, HTTPSHandler, Request

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["Clock", "TimedHandler"]


class Clock:
    """The deadline of one attempt. Every connect, send and receive may wait for the time left (and
    at most ``timeout``), so bytes that drip in, one at a time, cannot stretch the attempt."""

    def __init__(self, deadline: float, timeout: float) -> None:
        self.start = time.monotonic()
        self.end, self.wait = self.start + deadline, timeout

    def left(self) -> float:
        """Seconds the next wait for the server may take; TimeoutError once the deadline has passed."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline has passed")
        return min(left, self.wait)



class _TimedSocket:
    """A connected socket as http.client uses it, each send and receive waiting what ``clock`` allows."""

    def __init__(self, sock: socket.socket, clock: Clock) -> None:
        self.sock, self.clock = sock, clock

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(self.clock.left())
        self.sock.sendall(data)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_TimedReader(self))

    def close(self) -> None:
        self.sock.close()  # the socket itself stays open until the reader is closed too



class _TimedReader(io.RawIOBase):
    """The bytes of a :class:`_TimedSocket`; each receive (a line takes many) waits what its clock allows."""

    def __init__(self, timed: _TimedSocket) -> None:
        self.timed, self.raw = timed, timed.sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        self.timed.sock.settimeout(self.timed.clock.left())
        return self.raw.readinto(buffer)

    def close(self) -> None:
        self.raw.close()
        super().close()



class _TimedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection that connects in the time ``clock`` leaves, then uses a :class:`_TimedSocket`."""

    def __init__(self, host: str, *, clock: Clock, timeout: float | None = None) -> None:
        super().__init__(host)  # timeout: urllib's, replaced by the clock's
        self.clock = clock

    def connect(self) -> None:
        self.timeout = self.clock.left()
        super().connect()  # for https: TCP, then the TLS handshake
        self.sock = _TimedSocket(self.sock, self.clock)



class _TimedHTTPSConnection(_TimedHTTPConnection, http.client.HTTPSConnection):
    """The same over TLS."""



class TimedHandler(HTTPSHandler, HTTPHandler):
    """urllib's handler of http and https URLs (redirects included), with connections keeping to ``clock``."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def http_open(self, req: Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_TimedHTTPConnection, clock=self.clock), req)

    def https_open(self, req: Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_TimedHTTPSConnection, clock=self.clock), req)
