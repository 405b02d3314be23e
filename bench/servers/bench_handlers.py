"""The handlers every Python bench server installs (chat's and Flask-SocketIO's have the same
decorator API): 'message' broadcasts its arguments to everyone, 'echo' acknowledges with them
(after spinning --handler-cpu-us of Python), 'join' puts the sender in the room 'bench' and
acknowledges with its worker's pid, 'shout' emits to that room and acknowledges."""
import os
import time


def spin(us):
    """Busy-spins `us` microseconds of Python: an application's own work per event (holding the
    GIL, or blocking a gevent loop, as such work does)."""
    end = time.perf_counter() + us / 1e6
    while time.perf_counter() < end:
        pass


def install(socketio, join_room, work_us, as_args):
    """`as_args(args)`: the handler's arguments as the server's emit sends them again as
    several arguments."""

    @socketio.on("message")
    def on_message(*args):
        socketio.emit("message", as_args(args))

    if work_us:
        @socketio.on("echo")
        def on_echo(*args):
            spin(work_us)
            return tuple(args)
    else:
        @socketio.on("echo")
        def on_echo(*args):
            return tuple(args)

    @socketio.on("join")
    def on_join(*_):
        join_room("bench")
        return os.getpid()

    @socketio.on("shout")
    def on_shout(*args):
        socketio.emit("shout", as_args(args), to="bench")
        return "sent"
