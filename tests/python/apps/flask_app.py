"""A Flask app on `chat` that leans on Flask: the user session, emits and room calls from HTTP
routes, callbacks to a room, and a function as the CORS check. Run by
tests/python/test_flask_app.py in a subprocess:

    python flask_app.py PORT [--server-session]

With --server-session the app keeps sessions on the server (a dict keyed by a cookie, as
Flask-Session does) and passes manage_session=False, so Socket.IO handlers and HTTP routes share
one session, saved by Flask's session interface.
"""
import sys
import threading
import uuid

from flask import Flask, jsonify, request, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from chat import SocketIO, close_room, disconnect, emit, join_room, leave_room, rooms

SERVER_SESSION = "--server-session" in sys.argv

app = Flask(__name__)
app.config["SECRET_KEY"] = "secret"

# ---- a server-side session interface (what Flask-Session provides) ----

stored_sessions = {}


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid=None):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.modified = False


class ServerSessionInterface(SessionInterface):
    def open_session(self, app, request):
        sid = request.cookies.get("server_session")
        if sid and sid in stored_sessions:
            return ServerSession(stored_sessions[sid], sid)
        return ServerSession(sid=uuid.uuid4().hex)

    def save_session(self, app, session, response):
        stored_sessions[session.sid] = dict(session)
        response.set_cookie("server_session", session.sid)


if SERVER_SESSION:
    app.session_interface = ServerSessionInterface()

# ---- the CORS check: a function of the origin and the WSGI environ ----

origin_calls = []
origin_lock = threading.Lock()


def allow_origin(origin, environ):
    with origin_lock:
        origin_calls.append({"origin": origin, "path": environ["PATH_INFO"],
                             "transport": environ["QUERY_STRING"]})
    if origin == "http://explode.example":
        raise RuntimeError("the CORS check failed")
    # the site's subdomains, and the server's own origin (websocket-client sends it)
    return origin.endswith(".allowed.example") or origin == "http://" + environ.get("HTTP_HOST", "")


socketio = SocketIO(app, cors_allowed_origins=allow_origin, manage_session=not SERVER_SESSION)

# ---- HTTP routes ----


@app.route("/hello")
def hello():
    return "Hello, World!"


@app.route("/login/<name>")
def login(name):
    session["user"] = name
    return "logged in"


@app.route("/session")
def read_session():
    return jsonify(dict(session))


@app.route("/origin-calls")
def read_origin_calls():
    with origin_lock:
        return jsonify(origin_calls)


@app.route("/notify/<sid>")
def notify(sid):
    socketio.emit("notified", {"sid": sid}, to=sid)
    return "sent"


@app.route("/news")
def news():
    # the module-level emit in a route: Flask-SocketIO takes the server from the app context
    emit("news", "from a route", broadcast=True, namespace="/")
    return "sent"


@app.route("/join/<sid>/<room>")
def http_join(sid, room):
    join_room(room, sid=sid, namespace="/")
    return jsonify(sorted(rooms(sid=sid, namespace="/")))


@app.route("/leave/<sid>/<room>")
def http_leave(sid, room):
    leave_room(room, sid=sid, namespace="/")
    return jsonify(sorted(rooms(sid=sid, namespace="/")))


@app.route("/room-news/<room>")
def room_news(room):
    emit("room news", room, to=room, namespace="/")
    return "sent"


@app.route("/close/<room>")
def http_close(room):
    close_room(room, namespace="/")
    return "closed"


@app.route("/kick/<sid>")
def http_kick(sid):
    disconnect(sid=sid, namespace="/")
    return "kicked"


answers = []
answers_lock = threading.Lock()


@app.route("/ask-room/<room>")
def ask_room(room):
    # callbacks from outside a handler are called as they are, once per answer
    def answered(*answer):
        with answers_lock:
            answers.append({"from": "route", "answer": list(answer)})

    socketio.emit("question", room, to=room, callback=answered)
    return "asked"


@app.route("/answers")
def read_answers():
    with answers_lock:
        return jsonify(answers)


# ---- Socket.IO handlers ----


@socketio.on("connect")
def on_connect(auth=None):
    # what connect stores in the session, later handlers of this client see
    session["connected_as"] = session.get("user", "anonymous")
    session["events"] = 0


@socketio.on("whoami")
def whoami():
    session["events"] = session.get("events", 0) + 1
    return {"user": session.get("user"), "connected_as": session.get("connected_as"),
            "events": session["events"], "sid": request.sid}


@socketio.on("set")
def set_value(pair):
    key, value = pair
    session[key] = value
    return dict(session)


@socketio.on("join")
def on_join(room):
    join_room(room)
    return sorted(rooms())


@socketio.on("ask room")
def on_ask_room(room):
    # a callback to every member of a room, run in this handler's context for each answer
    asker = request.sid

    def answered(*answer):
        with answers_lock:
            answers.append({"from": "handler", "asker": asker, "context_sid": request.sid,
                            "answer": list(answer)})

    emit("question", room, to=room, callback=answered)
    return "asked"


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]))
    print("RUN RETURNED", flush=True)
