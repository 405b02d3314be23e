"""The server at its limits, and bounded whatever a client does:

- at its open-file limit it stops accepting without spinning, reports it once (through the error
  hook), and accepts again when descriptors are free (test_server run under `prlimit --nofile`);
- a WebSocket client that floods pings without reading the pongs is dropped once its unread
  bytes pass the per-client bound, with one report, and the server does not grow;
- a connection that does not finish its request within the handshake timeout is closed;
- the memory a flood made is used again by the next one: the process does not grow twice.
"""
import os
import shutil
import socket
import time

import pytest
import websocket

import protocol_wire as wire

FILE_LIMIT = 64       # the server's RLIMIT_NOFILE: a few dozen connections fill it
HELD = 2 * FILE_LIMIT  # idle connections: more than the server can accept
WINDOW = 2.0          # seconds the server is watched while out of descriptors


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def open_files(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) is missing")
def test_out_of_descriptors_backs_off_says_so_once_and_recovers(start_server, sio_clients):
    server = start_server("--ping-interval", "25000", prefix=("prlimit", "--nofile=%d:%d" % (FILE_LIMIT, FILE_LIMIT), "--"))
    held = []
    try:
        for _ in range(HELD):  # the kernel completes them all (backlog); the server cannot accept them all
            held.append(socket.create_connection(("127.0.0.1", server.port), timeout=wire.IO_TIMEOUT))
        deadline = time.monotonic() + 10
        while open_files(server.proc.pid) < FILE_LIMIT and time.monotonic() < deadline:
            time.sleep(0.05)
        assert open_files(server.proc.pid) == FILE_LIMIT, "the server never reached its open-file limit"

        # Out of descriptors with connections waiting: retrying accept at once would use the
        # whole window; backing off uses next to nothing. (A bound on a busy loop, not a speed.)
        before = cpu_seconds(server.proc.pid)
        time.sleep(WINDOW)
        used = cpu_seconds(server.proc.pid) - before
        assert used < WINDOW / 4, "the server used %.2f s of CPU in %.1f s while out of descriptors" % (used, WINDOW)
    finally:
        for s in held:
            s.close()

    # Descriptors free again: a client is served (bounded wait: the server retries within 0.5 s
    # and first accepts and closes the connections just given up).
    deadline = time.monotonic() + 10
    while True:
        try:
            sid, _, _ = wire.polling_handshake(server.port)
            break
        except (AssertionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert sid
    # What the server reported through its error hook (test_server's `errors` event).
    failures = [e for e in sio_clients(server.port).call("errors") if "accept failed" in e]
    assert len(failures) == 1, failures
    assert os.strerror(24) in failures[0], failures  # EMFILE, "Too many open files"


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for %d" % pid)


def masked_ping(payload):
    mask = b"\x01\x02\x03\x04"
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x89, 0x80 | len(payload)]) + mask + body


def test_websocket_ping_flood_without_reading_is_dropped(start_server, sio_clients):
    bound = 64 * 1024
    server = start_server("--max-buffered-bytes", str(bound))
    # A small receive buffer: the pongs back up into the server's queue sooner.
    ws = websocket.create_connection(wire.ws_url(server.port), suppress_origin=True, timeout=5,
                                     sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    assert ws.recv().startswith("0{")
    rss_before = rss_bytes(server.proc.pid)
    chunk = masked_ping(b"p" * 125) * 1000  # 1,000 pings of the largest control payload
    sent, dropped = 0, False
    deadline = time.monotonic() + 60
    try:
        while sent < 400_000 and time.monotonic() < deadline:  # at most 52 MB of pings
            ws.sock.sendall(chunk)
            sent += 1000
    except (ConnectionResetError, BrokenPipeError):  # cut by the server (a send timeout fails the test)
        dropped = True
    finally:
        ws.sock.close()
    grew = rss_bytes(server.proc.pid) - rss_before
    assert dropped, "%d pings unread and the client is still connected (the server grew %d bytes)" % (sent, grew)
    # Unbounded, the pongs of 400,000 pings held about 100 MB; bounded, the queue never holds
    # much more than the bound.
    assert grew < 32 * 1024 * 1024, "the server grew %d bytes during the flood" % grew
    drops = [e for e in sio_clients(server.port).call("errors") if "pings without reading" in e]
    assert len(drops) == 1, drops


@pytest.mark.parametrize("request_start", [b"", b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"],
                         ids=["silent", "unfinished-request"])
def test_a_connection_slower_than_handshake_timeout_is_closed(start_server, request_start):
    server = start_server("--handshake-timeout", "200")
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as slow:
        slow.sendall(request_start)
        # Closed once the handshake timeout has passed: with the default 5 s, recv() would time
        # out first and fail the test.
        while slow.recv(4096):
            pass


def ping_flood_until_dropped(port):
    """Floods pings without reading until the server cuts the connection; returns the pings sent."""
    ws = websocket.create_connection(wire.ws_url(port), suppress_origin=True, timeout=5,
                                     sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    assert ws.recv().startswith("0{")
    chunk = masked_ping(b"p" * 125) * 1000
    sent = 0
    try:
        while sent < 400_000:
            ws.sock.sendall(chunk)
            sent += 1000
    except (ConnectionResetError, BrokenPipeError):
        return sent
    finally:
        ws.sock.close()
    raise AssertionError("%d pings unread and the client is still connected" % sent)


def sessions_come_and_go(port, count):
    sids = [wire.polling_handshake(port)[0] for _ in range(count)]
    for sid in sids:
        wire.post_ok(port, sid, "1")


def test_the_memory_of_a_flood_is_reused_by_the_next(start_server):
    bound = 4 * 1024 * 1024
    # One io thread: under CHAT_TEST_SHARDS the two floods could land on two shards, whose
    # threads allocate from different malloc arenas.
    server = start_server("--max-buffered-bytes", str(bound), "--shards", "1")
    pid = server.proc.pid
    # Round one: a ping flood queues `bound` bytes of pongs before the client is cut, then a
    # thousand sessions open and close.
    ping_flood_until_dropped(server.port)
    sessions_come_and_go(server.port, 1000)
    after_first = rss_bytes(pid)
    # Round two, the same: what the first left free is used again, so the process barely grows
    # (without reuse it would grow by about the bound again).
    ping_flood_until_dropped(server.port)
    sessions_come_and_go(server.port, 1000)
    after_second = rss_bytes(pid)
    assert after_second - after_first < bound // 2, \
        "the second flood grew the server by %d bytes (first left it at %d)" % (after_second - after_first, after_first)
