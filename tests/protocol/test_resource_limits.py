"""The server at its open-file limit: it stops accepting without spinning, reports it once
(through the error hook), and accepts again when descriptors are free (test_server run under
`prlimit --nofile`)."""
import json
import os
import shutil
import socket
import time

import pytest

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


def server_errors(port):
    """What the server reported through its error hook (test_server's `errors` event)."""
    sid, _ = wire.sio_polling_connect(port)
    wire.post_ok(port, sid, '421["errors"]')
    packets = wire.collect_packets(port, sid, 1)
    assert packets[0].startswith("431"), packets
    return json.loads(packets[0][3:])[0]


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) is missing")
def test_out_of_descriptors_backs_off_says_so_once_and_recovers(start_server):
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
    failures = [e for e in server_errors(server.port) if "accept failed" in e]
    assert len(failures) == 1, failures
    assert os.strerror(24) in failures[0], failures  # EMFILE, "Too many open files"
