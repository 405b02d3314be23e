"""The WSGI gateway: runs the app for HTTP requests the Socket.IO server does not answer
itself, on a worker thread, and builds the environ a handler's Flask request context uses."""
from __future__ import annotations

import io
import sys
from typing import List, Tuple
from urllib.parse import urlsplit


def base_environ(method: str, target: str, headers, remote_address: str, body: bytes = b"") -> dict:
    """A WSGI environ for a request, from what the C++ server read of it."""
    split = urlsplit(target)
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": split.path or "/",
        "QUERY_STRING": split.query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_address or "127.0.0.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)) if body else "",
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key == "CONTENT_LENGTH":
            environ["CONTENT_LENGTH"] = value
        elif key == "HOST":
            environ["HTTP_HOST"] = value
            host, _, port = value.partition(":")
            environ["SERVER_NAME"] = host
            environ["SERVER_PORT"] = port or "80"
        else:
            environ["HTTP_" + key] = value
    return environ


def handshake_environ(handshake: dict) -> dict:
    """The WSGI environ of the request that opened a Socket.IO connection."""
    return base_environ("GET", handshake.get("url") or "/socket.io/", handshake.get("headers", []),
                         handshake.get("remote_address", ""))


def call_wsgi(app, request: dict) -> Tuple[int, List[Tuple[str, str]], bytes]:
    """Runs one request through a WSGI app; returns (status, headers, body)."""
    if app is None:
        return 404, [("Content-Type", "text/plain")], b"Not Found"
    environ = base_environ(request["method"], request["target"], request["headers"], request["remote_address"],
                            bytes(request["body"]))
    response = {}

    def start_response(status, headers, exc_info=None):
        response["status"] = int(status.split(" ", 1)[0])
        response["headers"] = [(str(k), str(v)) for k, v in headers]
        return lambda data: chunks.append(data)

    chunks: List[bytes] = []
    result = app(environ, start_response)
    try:
        for chunk in result:
            if chunk:
                chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    headers = [(k, v) for k, v in response.get("headers", []) if k.lower() not in ("content-length", "connection")]
    return response.get("status", 500), headers, b"".join(chunks)
