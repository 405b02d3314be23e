"""python-socketio's client over wss:// without its reader and writer racing on one SSL object.

python-engineio's client (4.3, Debian's; the race is still there upstream in 4.13) reads its
WebSocket on one thread and writes it on another. Over TLS both threads then call OpenSSL on the
same SSL object at once, which OpenSSL does not allow: now and then the reader takes the writer's
state for an error, the client drops the connection ("WebSocket connection was closed, aborting")
and the server sees the client close it ("transport close"). python-engineio#461 describes it; a
test of our server must not fail on it, so the TLS tests give the client a WebSocket that waits
for the socket outside a lock and makes every OpenSSL call under it.

`install(monkeypatch)` routes python-engineio's `websocket.create_connection` through it for one
test (pytest's monkeypatch undoes it).
"""
import functools
import selectors
import ssl
import threading

import engineio.client
import websocket


class OneTlsCallAtATime(websocket.WebSocket):
    """websocket-client's WebSocket with its socket reads and writes made one at a time: a read
    first waits, without the lock, until the socket has bytes, then reads under the lock
    without blocking; a write runs under the lock."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tls_lock = threading.Lock()

    def _recv(self, bufsize):
        while True:
            with self._tls_lock:
                sock = self.sock
                if sock is None:
                    raise websocket.WebSocketConnectionClosedException("socket is already closed.")
                timeout = sock.gettimeout()
                sock.settimeout(0)
                try:
                    data = sock.recv(bufsize)
                except (ssl.SSLWantReadError, BlockingIOError):
                    data = None
                finally:
                    sock.settimeout(timeout)
            if data is not None:
                if not data:
                    raise websocket.WebSocketConnectionClosedException("Connection to remote host was lost.")
                return data
            with selectors.DefaultSelector() as selector:
                selector.register(sock, selectors.EVENT_READ)
                if not selector.select(timeout):
                    raise websocket.WebSocketTimeoutException("timed out")

    def _send(self, data):
        with self._tls_lock:
            return super()._send(data)


def install(monkeypatch):
    """Makes python-engineio's client open its WebSockets as OneTlsCallAtATime until the test ends."""
    monkeypatch.setattr(engineio.client.websocket, "create_connection",
                        functools.partial(websocket.create_connection, class_=OneTlsCallAtATime))
