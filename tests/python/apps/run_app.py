"""An app for tests/python/test_run.py: socketio.run() with the arguments given as JSON.

    python run_app.py PORT '{"debug": true, ...}' [--server-name] [--emit-first]

GET /hello answers the serving process's pid and app.debug. With --server-name the port goes in
SERVER_NAME and run() gets none (Flask-SocketIO reads the port from there). With --emit-first the
app emits before run(), as a background task started early does.
"""
import json
import os
import sys

from flask import Flask, jsonify

from chat import SocketIO

app = Flask(__name__)
socketio = SocketIO(app)


@app.route("/hello")
def hello():
    return jsonify({"pid": os.getpid(), "debug": app.debug})


if __name__ == "__main__":
    port = int(sys.argv[1])
    arguments = json.loads(sys.argv[2])
    if "--emit-first" in sys.argv:
        socketio.emit("tick", 1)
    if "--server-name" in sys.argv:
        app.config["SERVER_NAME"] = "127.0.0.1:%d" % port
        socketio.run(app, **arguments)
    else:
        socketio.run(app, port=port, **arguments)
    print("RUN RETURNED", flush=True)
