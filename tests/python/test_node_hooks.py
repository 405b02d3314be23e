"""Node's server hooks on SocketIO, in snake_case: volatile emits, any-listeners (on_any,
prepend_any, off_any, on_any_outgoing), packet middlewares (use), namespaces by pattern (Node's io.of(regex)) and
cleanup_empty_child_namespaces; served on a thread of this process and driven by
python-socketio's client over real sockets."""
import re
import threading

import pytest
from flask import Flask

from servers import until
from chat import SocketIO, emit
from app_servers import Running

ROOMS = re.compile(r"^/room-\d+$")


def make_app(**options):
    app = Flask(__name__)
    socketio = SocketIO(app, **options)
    seen = {"any": [], "outgoing": [], "connected": []}
    lock = threading.Lock()

    def note(kind, entry):
        with lock:
            seen[kind].append(entry)

    @socketio.on("sync")
    def sync(value):
        return value

    @socketio.on("echo")
    def echo(value):
        emit("echoed", value)
        return "ok"

    @socketio.on("burst")
    def burst():
        # A plain event, then a volatile one behind it: the first is still being written (or,
        # over polling, queued) when the second comes, which is dropped.
        emit("plain", 1)
        emit("volatile", 2, volatile=True)
        return "ok"

    @socketio.on("broadcast volatile")
    def broadcast_volatile(value):
        socketio.emit("news", value, volatile=True)
        return "ok"

    @socketio.on_any()
    def second(event, *args):
        from flask import request
        note("any", ("second", request.sid, event, args))

    @socketio.prepend_any()
    def first(event, *args):
        note("any", ("first", event, args))

    @socketio.on("drop second listener")
    def drop_second():
        socketio.off_any(second)
        return "ok"

    @socketio.on_any_outgoing()
    def outgoing(event, *args):
        from flask import request
        note("outgoing", (request.sid, event, args))

    @socketio.on("connect", namespace=ROOMS)
    def room_connect(auth):
        from flask import request
        note("connected", request.namespace)

    @socketio.on("where", namespace=ROOMS)
    def where():
        from flask import request
        return request.namespace

    @socketio.on("to every room", namespace=ROOMS)
    def to_every_room(value):
        for name in ("/room-1", "/room-2"):
            socketio.emit("room news", value, namespace=name)
        return "ok"

    return app, socketio, seen


@pytest.fixture
def served():
    app, socketio, seen = make_app(cleanup_empty_child_namespaces=True)
    running = Running(socketio, app)
    running.seen = seen
    yield running
    running.stop()


def test_volatile_event_behind_a_plain_one_is_dropped(served, clients):
    # Over polling the plain event waits in the session's queue until the response that takes
    # it, so the volatile one behind it always finds the transport busy. (Over WebSocket that
    # depends on whether the plain frame's write has completed in between: timing.)
    client = clients().connect(served, transport="polling")
    client.sync()
    for _ in range(3):
        assert client.call("burst") == "ok"
    client.sync()
    assert len(client.pending("plain")) == 3
    assert client.pending("volatile") == []


def test_volatile_broadcast_reaches_an_idle_websocket_client(served, clients):
    listener = clients().connect(served, transport="websocket")
    sender = clients().connect(served, transport="websocket")
    listener.sync()
    assert sender.call("broadcast volatile", "fresh") == "ok"
    assert listener.next("news") == ("fresh",)


def test_volatile_with_a_callback_is_refused(served):
    with pytest.raises(ValueError, match="volatile"):
        served.socketio.emit("x", volatile=True, callback=lambda *a: None)


def test_any_listeners_see_every_event_in_order_before_the_handler(served, clients, transport):
    client = clients().connect(served, transport=transport)
    sid = client.sio.get_sid("/")
    assert client.call("echo", "hi") == "ok"
    assert client.next("echoed") == ("hi",)
    client.emit("no handler", {"n": 1})
    client.sync()
    mine = [entry for entry in served.seen["any"] if entry[0] == "first" or entry[1] == sid]
    firsts = [entry for entry in mine if entry[0] == "first"]
    seconds = [entry for entry in mine if entry[0] == "second"]
    assert firsts[:2] == [("first", "echo", ("hi",)), ("first", "no handler", ({"n": 1},))]
    assert [entry[2:] for entry in seconds[:2]] == [("echo", ("hi",)), ("no handler", ({"n": 1},))]
    # prepend_any's listener runs first.
    assert mine.index(firsts[0]) < mine.index(seconds[0])
    assert client.call("drop second listener") == "ok"
    count = len([entry for entry in served.seen["any"] if entry[0] == "second"])
    client.emit("after", 2)
    client.sync()
    assert len([entry for entry in served.seen["any"] if entry[0] == "second"]) == count
    assert ("first", "after", (2,)) in served.seen["any"]


def test_outgoing_listener_sees_the_events_sent_to_each_client(served, clients):
    client = clients().connect(served, transport="websocket")
    sid = client.sio.get_sid("/")
    assert client.call("echo", "out") == "ok"
    assert client.next("echoed") == ("out",)
    until(lambda: (sid, "echoed", ("out",)) in served.seen["outgoing"], "the outgoing listener saw echoed")


def test_namespaces_by_pattern_are_made_with_the_patterns_handlers(served, clients):
    one = clients(namespaces=["/room-1"]).connect(served)
    two = clients(namespaces=["/room-2"]).connect(served)
    assert one.call("where", ns="/room-1") == "/room-1"
    assert two.call("where", ns="/room-2") == "/room-2"
    assert sorted(served.seen["connected"]) == ["/room-1", "/room-2"]
    assert one.call("to every room", "hello", ns="/room-1") == "ok"
    assert one.next("room news", ns="/room-1") == ("hello",)
    assert two.next("room news", ns="/room-2") == ("hello",)
    refused = clients(namespaces=["/room-x"])
    refused.connect(served, wait=False)
    ns, args = refused.next_connect_error()
    assert ns == "/room-x" and args[0]["message"] == "Invalid namespace"


def test_a_pattern_python_and_ecmascript_read_differently_is_refused_at_start():
    app = Flask(__name__)
    socketio = SocketIO(app)
    socketio.on("x", namespace=re.compile(r"^/(?P<name>\w+)$"))(lambda: None)
    with pytest.raises(ValueError, match="namespace pattern"):
        socketio._ensure_server()


def test_cleanup_option_is_checked():
    with pytest.raises(TypeError, match="unknown option"):
        SocketIO(Flask(__name__), cleanup_empty_children=True)


def test_packet_middlewares_run_in_order_and_may_drop_an_event(transport, clients, serve):
    # Node's socket.use, for every client of the namespace: after the any-listeners, before the
    # handler; False drops the event (its ack is not sent); an exception drops it and goes to
    # the namespace's error handler.
    app = Flask(__name__)
    socketio = SocketIO(app)
    seen = []
    errors = []

    @socketio.on_any()
    def listener(event, *args):
        seen.append(("any", event))

    @socketio.use()
    def first(event, *args):
        seen.append(("first", event))
        if event == "explode":
            raise RuntimeError("refused by the middleware")
        return False if event == "forbidden" else None

    @socketio.use()
    def second(event, *args):
        seen.append(("second", event))

    @socketio.on("forbidden")
    def forbidden():
        seen.append(("handler", "forbidden"))
        return "should not come"

    @socketio.on("explode")
    def explode():
        seen.append(("handler", "explode"))

    @socketio.on("allowed")
    def allowed(value):
        seen.append(("handler", "allowed"))
        return value

    @socketio.on_error_default
    def on_error(error):
        errors.append(str(error))

    client = clients().connect(serve(socketio, app), transport=transport)
    client.emit("forbidden")
    client.emit("explode")
    assert client.call("allowed", 7) == 7
    assert seen == [("any", "forbidden"), ("first", "forbidden"),
                    ("any", "explode"), ("first", "explode"),
                    ("any", "allowed"), ("first", "allowed"), ("second", "allowed"), ("handler", "allowed")]
    assert errors == ["refused by the middleware"]
    import socketio as python_socketio
    with pytest.raises(python_socketio.exceptions.TimeoutError):  # the dropped event's ack never comes
        client.call("forbidden", timeout=0.5)
