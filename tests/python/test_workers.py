"""socketio.run(app, workers=N): worker processes behind one port, with no sticky load
balancer (the supervisor routes each connection by the sid in its request line), rooms across
workers through Redis (Debian's redis-server on a free port), a worker restarted when it dies,
Ctrl-C stopping them all. The app (apps/workers_app.py) runs in a subprocess: the supervisor
forks, which a test process must not do. python-socketio's client over each transport."""
import os
import signal
import threading

import pytest
import requests

import servers  # tests/support/servers.py
from servers import until
from chat import SocketIO
from flask import Flask

from app_servers import IO_TIMEOUT

TRANSPORTS = ("polling", "websocket", "upgrade")
CLIENTS_PER_TRANSPORT = 6  # new sessions go to the workers in turn: both get some


@pytest.fixture
def two_workers(start_app, redis):
    server = start_app("workers_app.py", args=("2", redis.url))
    # Both workers are in the cluster (each subscribes to the namespace's request channel).
    until(lambda: redis.subscribers("socket.io-request#/#") == 2, "both workers in the cluster")
    return server


def worker_pids(server):
    """The pids of the supervisor's live children (its workers), from /proc."""
    with open("/proc/%d/task/%d/children" % (server.proc.pid, server.proc.pid)) as children:
        return {int(pid) for pid in children.read().split()}


def test_every_request_of_a_session_reaches_its_worker(two_workers, clients):
    workers = worker_pids(two_workers)
    assert len(workers) == 2 and two_workers.proc.pid not in workers
    landed = {transport: set() for transport in TRANSPORTS}
    for transport in TRANSPORTS:
        for _ in range(CLIENTS_PER_TRANSPORT):
            client = clients()
            client.connect(two_workers, transport=transport)
            # Each call over polling is a new HTTP request (a new TCP connection) routed by its
            # sid: all of a session's answers come from one worker.
            answers = {client.call("whoami") for _ in range(4)}
            assert len(answers) == 1, answers
            landed[transport] |= answers
            if transport != "polling":
                assert client.sio.transport() == "websocket"
    assert landed == {transport: workers for transport in TRANSPORTS}


def test_a_room_broadcast_reaches_every_member_once(two_workers, clients):
    members = []
    for transport in TRANSPORTS:
        for _ in range(2):
            client = clients()
            client.connect(two_workers, transport=transport)
            client.pid = client.call("join", "lobby")
            members.append(client)
    assert {member.pid for member in members} == worker_pids(two_workers)
    speaker = members[0]
    assert speaker.call("say", {"room": "lobby", "text": "one"}) == "ok"
    assert speaker.call("say", {"room": "lobby", "text": "two"}) == "ok"
    for member in members:
        # The messages of one sender keep their order: a second "one" would come before "two".
        assert member.next("said")[0]["text"] == "one"
        assert member.next("said")[0]["text"] == "two"
        assert member.pending("said") == []


def test_flask_routes_answer_on_every_worker(two_workers):
    pids = set()
    for _ in range(10):
        answer = requests.get(two_workers.url + "/pid", timeout=IO_TIMEOUT)
        assert answer.status_code == 200
        pids.add(int(answer.text))
    assert pids == worker_pids(two_workers)


def test_a_worker_that_dies_is_started_again_and_its_clients_reconnect(two_workers, clients, redis):
    client = clients()
    client.sio.reconnection = True  # python-socketio's default, off in clients.Client
    client.sio.reconnection_delay = 0.2
    client.connect(two_workers, transport="websocket")
    victim = client.call("whoami")
    survivors = worker_pids(two_workers) - {victim}
    os.kill(victim, signal.SIGKILL)

    def started_again():
        # One read of the children: two could see the victim's zombie in the first (two
        # children) and nothing of it, reaped, in the second, before it is started again.
        pids = worker_pids(two_workers)
        return len(pids) == 2 and victim not in pids

    until(started_again, "the worker started again", timeout=IO_TIMEOUT)
    assert "worker" in two_workers.written() and "was killed by signal 9" in two_workers.written()
    # The client lost its session with its worker and connects anew (to either worker).
    until(lambda: client.sio.connected and client.sio.get_sid() is not None, "the client reconnected",
          timeout=IO_TIMEOUT)
    assert client.call("whoami") in worker_pids(two_workers)
    assert survivors <= worker_pids(two_workers)
    until(lambda: redis.subscribers("socket.io-request#/#") == 2, "the new worker in the cluster",
          timeout=IO_TIMEOUT)


def test_ctrl_c_stops_every_worker(two_workers, clients):
    client = clients()
    client.connect(two_workers, transport="polling")
    workers = worker_pids(two_workers)
    assert two_workers.interrupt() == 0
    assert "RUN RETURNED" in two_workers.written()
    for pid in workers:
        assert not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split()[2] == "Z"


def test_stop_in_a_worker_stops_them_all(two_workers, clients):
    client = clients()
    client.connect(two_workers, transport="websocket")
    workers = worker_pids(two_workers)
    assert client.call("stop everything") == "stopping"
    assert two_workers.proc.wait(timeout=IO_TIMEOUT) == 0
    two_workers.stopped = True
    assert "RUN RETURNED" in two_workers.written()
    for pid in workers:
        assert not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split()[2] == "Z"


def test_one_worker_needs_no_queue(start_app, clients):
    server = start_app("workers_app.py", args=("1",))
    client = clients()
    client.connect(server, transport="upgrade")
    assert client.call("whoami") in worker_pids(server)


@pytest.mark.parametrize("kwargs, error", [
    ({"workers": 2}, "message_queue"),
    ({"workers": 0}, "from 1 to 64"),
    ({"workers": 65}, "from 1 to 64"),
    ({"workers": True}, "from 1 to 64"),
    ({"workers": 1, "use_reloader": True}, "reloader"),
    ({"workers": 1, "ssl_context": "adhoc"}, "TLS"),
])
def test_what_workers_refuse(kwargs, error):
    socketio = SocketIO(Flask(__name__))
    with pytest.raises(ValueError, match=error):
        socketio.run(port=0, **kwargs)


def test_a_server_made_before_run_is_refused():
    socketio = SocketIO(Flask(__name__))
    socketio.emit("early", "made a server in this process")
    with pytest.raises(RuntimeError, match="has a server already"):
        socketio.run(port=0, workers=1)
