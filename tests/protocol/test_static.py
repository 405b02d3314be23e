"""HTTP outside the Socket.IO path: --static DIR, --client-dir DIR, GET /hello, 404s, and path
traversal attempts (which must never return a file outside DIR)."""

import pytest

import protocol_wire as wire

INDEX = b"<!doctype html><title>chat</title><p>index page</p>\n"
CSS = b"body { color: #123456; }\n"
JS = b"console.log('app');\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
       b"\x00\x00\x00IEND\xaeB`\x82")
SUB = b"nested text file\n"
SECRET = b"TOP-SECRET-OUTSIDE-THE-STATIC-DIR\n"


@pytest.fixture
def static_dir(tmp_path):
    www = tmp_path / "www"
    (www / "sub").mkdir(parents=True)
    (www / "index.html").write_bytes(INDEX)
    (www / "style.css").write_bytes(CSS)
    (www / "app.js").write_bytes(JS)
    (www / "logo.png").write_bytes(PNG)
    (www / "sub" / "notes.txt").write_bytes(SUB)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    return www


@pytest.fixture
def static_port(start_server, static_dir):
    return start_server("--static", str(static_dir)).port


def _mime(r):
    return r.header("content-type", "").split(";")[0].strip().lower()


def test_root_serves_index_html(static_port):
    r = wire.http_request(static_port, "GET", "/")
    assert r.status == 200, r
    assert r.body == INDEX, r
    assert _mime(r) == "text/html", r


def test_index_html_by_name(static_port):
    r = wire.http_request(static_port, "GET", "/index.html")
    assert r.status == 200, r
    assert r.body == INDEX
    assert _mime(r) == "text/html", r


@pytest.mark.parametrize("path, body, mimes", [
    ("/style.css", CSS, ("text/css",)),
    ("/app.js", JS, ("application/javascript", "text/javascript")),
    ("/logo.png", PNG, ("image/png",)),
    ("/sub/notes.txt", SUB, ("text/plain",)),
])
def test_mime_types(static_port, path, body, mimes):
    r = wire.http_request(static_port, "GET", path)
    assert r.status == 200, r
    assert r.body == body, r
    assert _mime(r) in mimes, r


def test_query_string_is_ignored(static_port):
    r = wire.http_request(static_port, "GET", "/style.css?v=123")
    assert r.status == 200, r
    assert r.body == CSS


def test_unknown_path_is_404(static_port):
    for path in ("/nope.html", "/sub/nope.txt", "/nope/deeper/x.js"):
        r = wire.http_request(static_port, "GET", path)
        assert r.status == 404, (path, r)


def test_hello_with_static(static_port):
    r = wire.http_request(static_port, "GET", "/hello")
    assert r.status == 200, r
    assert r.body == b"hello", r
    assert _mime(r) == "text/plain", r


def test_hook_answering_later_from_another_thread(static_port):
    """A fallback hook that answers after returning (the WSGI gateway's case): the deferred
    response still arrives, whole, with `Connection: close`."""
    for _ in range(5):
        r = wire.http_request(static_port, "GET", "/async-hello")
        assert r.status == 200, r
        assert r.body == b"hello later", r
        assert r.headers.get("connection", "").lower() == "close", r


def test_socketio_path_still_works_with_static(static_port):
    sid, _, _ = wire.polling_handshake(static_port)
    assert sid


TRAVERSALS = [
    "/../secret.txt",
    "/sub/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/..%2fsecret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/..%5csecret.txt",
    "/....//secret.txt",
    "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/sub/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/%252e%252e/secret.txt",
    "/index.html%00.png",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused(static_port, path):
    r = wire.http_request(static_port, "GET", path)
    assert r.status in (400, 403, 404), r
    assert SECRET not in r.body, r
    assert b"root:" not in r.body, r


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "//etc/passwd"])
def test_path_traversal_raw_request_line(static_port, path):
    raw = wire.raw_exchange(static_port, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                          % path).encode())
    status = wire.parse_status(raw)
    assert status in (400, 403, 404, None), raw[:300]
    assert SECRET not in raw and b"root:" not in raw, raw[:300]


def test_directory_without_index_is_not_listed(static_port):
    r = wire.http_request(static_port, "GET", "/sub/")
    assert r.status in (403, 404), r
    assert b"notes.txt" not in r.body, r


def test_no_static_dir_means_404(start_server):
    port = start_server().port
    for path in ("/", "/index.html", "/style.css"):
        assert wire.http_request(port, "GET", path).status == 404, path
    r = wire.http_request(port, "GET", "/hello")
    assert r.status == 200 and r.body == b"hello", r


def test_client_dir_serves_bundle(start_server, tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "socket.io.js").write_bytes(b"/* full bundle */ var io = 1;\n")
    (dist / "socket.io.min.js").write_bytes(b"var io=1;\n")
    (dist / "socket.io.js.map").write_bytes(b'{"version":3}\n')
    port = start_server("--client-dir", str(dist)).port
    r = wire.http_request(port, "GET", "/socket.io/socket.io.js")
    assert r.status == 200, r
    assert r.body == b"/* full bundle */ var io = 1;\n"
    assert _mime(r) in ("application/javascript", "text/javascript"), r
    r = wire.http_request(port, "GET", "/socket.io/socket.io.min.js")
    assert r.status == 200 and r.body == b"var io=1;\n", r
    r = wire.http_request(port, "GET", "/socket.io/socket.io.js.map")
    assert r.status == 200 and r.body == b'{"version":3}\n', r


def test_static_responses_close_connection(static_port):
    for path in ("/", "/logo.png", "/nope.html", "/../secret.txt"):
        r = wire.http_request(static_port, "GET", path)
        assert r.header("connection", "").lower() == "close", (path, r)
