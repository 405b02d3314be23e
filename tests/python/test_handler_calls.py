"""What a handler calls (emit, join_room, leave_room, its acknowledgement, rooms()) reaches the
io thread through one ordered queue, woken once per batch: the calls keep their order, for one
socket and across sockets and kinds of call, and none of them waits for the handler to finish,
even when it goes on running, blocked or busy. Served on a thread of this process; the order is
read by socket.io-client under Node (it hands packets to its listeners in order), the arrival
during a handler by python-socketio's client."""
import threading
import time

from flask import Flask, request

from chat import SocketIO, emit, join_room, leave_room, rooms
from clients import run_node
from app_servers import IO_TIMEOUT


def make_app():
    socketio = SocketIO(Flask(__name__))
    arrived = {}  # name -> threading.Event, set by the tests' clients

    @socketio.on("sequence")
    def sequence():
        emit("step", 1)
        join_room("a")
        emit("step", 2, to="a")  # reaches the sender only if the join came first
        leave_room("a")
        emit("step", 3, to="a")  # reaches nobody: the leave came first
        join_room("b")
        seen = rooms()           # a call that waits for its answer comes after the calls before it
        emit("step", 4)
        return sorted(room for room in seen if room != request.sid)

    @socketio.on("across")
    def across(other, rounds):
        for i in range(rounds):
            emit("n", i, to=other)
            join_room("r%d" % i, sid=other)
            emit("in", i, to="r%d" % i)
            leave_room("r%d" % i, sid=other)
            emit("out", i, to="r%d" % i)  # nobody is left in the room
        emit("end", to=other)
        return "sent"

    @socketio.on("emit then block")
    def emit_then_block(name):
        # The emit must reach the client while this handler is still blocked (GIL released).
        emit("early", name)
        return arrived[name].wait(IO_TIMEOUT)

    @socketio.on("emit then spin")
    def emit_then_spin(name):
        # The same while the handler keeps running Python (holding the GIL but for the
        # interpreter's switch interval): nothing waits for it to finish or to block.
        emit("early", name)
        deadline = time.monotonic() + IO_TIMEOUT
        while not arrived[name].is_set() and time.monotonic() < deadline:
            pass
        return arrived[name].is_set()

    return socketio, arrived


def test_one_handlers_calls_arrive_in_order(serve, node_transport):
    socketio, _ = make_app()
    server = serve(socketio)
    result = run_node("sequence", server, node_transport, script="order_client.mjs")
    assert result["log"] == [["step", 1], ["step", 2], ["step", 4], ["ack", ["b"]]]


def test_calls_about_another_socket_keep_their_order(serve, node_transport):
    socketio, _ = make_app()
    server = serve(socketio)
    rounds = 50
    result = run_node("across", server, node_transport, str(rounds), script="order_client.mjs")
    expected = []
    for i in range(rounds):
        expected += [["n", i], ["in", i]]
    assert result["log"] == expected + [["end"]]


def run_and_watch_early(serve, clients, transport, event):
    socketio, arrived = make_app()
    server = serve(socketio)
    names = ["first", "second"]
    for name in names:
        arrived[name] = threading.Event()
    c = clients(handlers={("/", "early"): lambda name: arrived[name].set()})
    c.connect(server, transport)
    for name in names:  # twice: the second time the io thread has been woken for the first
        assert c.call(event, name, timeout=3 * IO_TIMEOUT) is True, "the emit did not arrive while the handler ran"


def test_an_emit_goes_out_while_its_handler_blocks(serve, clients, transport):
    run_and_watch_early(serve, clients, transport, "emit then block")


def test_an_emit_goes_out_while_its_handler_keeps_running(serve, clients, transport):
    run_and_watch_early(serve, clients, transport, "emit then spin")
