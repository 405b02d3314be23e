"""chat hosted from Python: the same two jobs as the other servers, with handlers in Python.

On 'message' it broadcasts 'message' with the same arguments to everyone (the sender included); on
'echo' it acknowledges with the same arguments. Ping 25 s / 20 s, logging off. For the worker
comparison (bench/run --workers): 'join' puts the sender in the room 'bench' and acknowledges with
its worker's pid, 'shout' emits 'shout' with its arguments to that room and acknowledges.

    .venv/bin/python chat_python_server.py [--host 127.0.0.1] [--port 0] [--workers N]
        [--message-queue redis://...] [--handler-cpu-us U]

--workers N serves from N worker processes behind the one port (socketio.run(workers=N)); more than
one needs --message-queue. --handler-cpu-us U makes the echo handler spin U µs of Python first (an
application's own work per event). Prints "READY <port>" once listening; SIGINT/SIGTERM stop it
(and its workers).
"""
import argparse
import signal
import threading
import time

import bench_handlers  # bench/servers/bench_handlers.py
from chat import SocketIO, join_room


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None,
                        help="serve from this many worker processes (socketio.run(workers=N))")
    parser.add_argument("--message-queue", default=None, help="redis://host:port, required with --workers above 1")
    parser.add_argument("--handler-cpu-us", type=int, default=0,
                        help="µs of Python CPU each echo handler spends before acknowledging")
    options = parser.parse_args()
    if options.handler_cpu_us < 0:
        parser.error("--handler-cpu-us must be 0 or more")

    queue = {"message_queue": options.message_queue} if options.message_queue else {}
    socketio = SocketIO(ping_interval=25, ping_timeout=20, logger=False,
                        engineio_logger=False, **queue)
    # a tuple travels as several arguments
    bench_handlers.install(socketio, join_room, options.handler_cpu_us, tuple)

    def announce():
        # socketio.port is set once the (supervisor's) socket listens, before any worker starts.
        while getattr(socketio, "port", None) is None:
            time.sleep(0.01)
        print("READY %d" % socketio.port, flush=True)

    threading.Thread(target=announce, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: socketio.stop())
    run_options = {} if options.workers is None else {"workers": options.workers}
    socketio.run(host=options.host, port=options.port, log_output=False, **run_options)


if __name__ == "__main__":
    main()
