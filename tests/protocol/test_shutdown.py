"""SIGTERM stops the server cleanly and promptly (exit status 0 within a few seconds), whatever
its connections are doing, and tells the clients it can tell."""
import socket
import time

import protocol_wire as wire
from protocol_wire import SHUTDOWN_TIMEOUT, SUITE_FLAGS


def _stop(server):
    t0 = time.monotonic()
    rc = server.stop()
    assert rc is not None, "%s did not exit within %.0f s of SIGTERM; stderr:\n%s" % (
        server.describe(), SHUTDOWN_TIMEOUT, server.stderr_tail())
    assert rc == 0, "exit status %s; stderr:\n%s" % (rc, server.stderr_tail())
    return time.monotonic() - t0


def test_idle_server(start_server):
    _stop(start_server())


def test_with_websocket_clients(start_server):
    server = start_server()
    sockets = [wire.sio_ws_connect(server.port)[0] for _ in range(3)]
    _stop(server)
    for ws in sockets:
        wire.ws_expect_close(ws)


def test_with_pending_poll(start_server):
    server = start_server()
    sid, _ = wire.sio_polling_connect(server.port)
    pending = wire.pending_get(server.port, sid)
    time.sleep(0.1)
    _stop(server)
    r = pending.wait()
    assert r.status == 200, r
    assert wire.split_payload(r.body)[-1] == "1", r        # the close packet


def test_with_polling_session_closed_by_server(start_server):
    """close-me over polling: the server closes the session and waits for the next GET to
    deliver `1`; SIGTERM must not wait for that GET."""
    server = start_server()
    sid, _ = wire.sio_polling_connect(server.port)
    wire.post_ok(server.port, sid, '42["close-me"]')
    _stop(server)


def test_with_polling_session_closed_by_server_during_poll(start_server):
    server = start_server()
    sid, _ = wire.sio_polling_connect(server.port)
    pending = wire.pending_get(server.port, sid)
    time.sleep(0.1)
    wire.post_ok(server.port, sid, '42["close-me"]')
    assert pending.wait().status == 200
    _stop(server)


def test_with_python_clients(start_server, sio_clients):
    server = start_server()
    clients = [sio_clients(server.port, transports=t)
               for t in (["polling"], ["websocket"], None)]
    _stop(server)
    for c in clients:
        deadline = time.monotonic() + 2 * wire.IO_TIMEOUT
        while c.sio.eio.state == "connected":
            assert time.monotonic() < deadline, "client still connected"
            time.sleep(0.05)


def test_with_half_open_connections(start_server):
    server = start_server()
    socks = []
    for data in (b"", b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\n",
                 b"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nContent-Length: 100\r\n\r\n4"):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=wire.IO_TIMEOUT)
        if data:
            s.sendall(data)
        socks.append(s)
    try:
        _stop(server)
    finally:
        for s in socks:
            s.close()


def test_with_upgrading_session(start_server):
    server = start_server(*SUITE_FLAGS)
    sid, _ = wire.sio_polling_connect(server.port)
    ws = wire.ws_connect(server.port, sid=sid)
    ws.send("2probe")
    assert wire.ws_recv_text(ws, skip_pings=False) == "3probe"
    _stop(server)
    wire.ws_expect_close(ws, answer_pings=False)
