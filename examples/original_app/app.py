"""The original Flask-SocketIO chat app, with one line changed: the import.

    from flask_socketio import SocketIO, emit   ->   from chat import SocketIO, emit

Run it with the project's venv (scripts/setup makes it): .venv/bin/python examples/original_app/app.py
(examples/python_chat is the full chat app this one grew into.)
"""
from flask import Flask, render_template

from chat import SocketIO, emit

app = Flask(__name__)
app.config["SECRET_KEY"] = "secret!"
socketio = SocketIO(app, cors_allowed_origins="*")


@app.route("/")
def index():
    return render_template("index.html")


@socketio.on("message")
def handle_message(data):
    print("received message: " + str(data))
    emit("message", data, broadcast=True)


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=5000)
