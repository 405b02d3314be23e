"""chat hosted from Python: the same two jobs as the other servers, with handlers in Python.

On 'message' it broadcasts 'message' with the same arguments to everyone (the sender included); on
'echo' it acknowledges with the same arguments. Ping 25 s / 20 s, logging off.

    .venv/bin/python chat_python_server.py [--host 127.0.0.1] [--port 0]

Prints "READY <port>" once listening; SIGINT/SIGTERM stop it.
"""
import argparse
import signal
import threading
import time

from chat import SocketIO


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()

    socketio = SocketIO(ping_interval=25, ping_timeout=20, logger=False, engineio_logger=False)

    @socketio.on("message")
    def on_message(*args):
        socketio.emit("message", tuple(args))  # a tuple travels as several arguments

    @socketio.on("echo")
    def on_echo(*args):
        return tuple(args)

    def announce():
        while getattr(socketio, "port", None) is None:
            time.sleep(0.01)
        print("READY %d" % socketio.port, flush=True)

    threading.Thread(target=announce, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: socketio.stop())
    socketio.run(host=options.host, port=options.port, log_output=False)


if __name__ == "__main__":
    main()
