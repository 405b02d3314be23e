"""A Flask-SocketIO style app served by worker processes, run in a subprocess by
tests/python/test_workers.py:

    python workers_app.py PORT WORKERS [REDIS_URL]

Every answer says which process gave it (its pid), so that the tests see where each request
of a session landed.
"""
import os
import sys

from flask import Flask

from chat import SocketIO, emit, join_room

app = Flask(__name__)
queue = sys.argv[3] if len(sys.argv) > 3 else None
socketio = SocketIO(app, message_queue=queue, cors_allowed_origins='*')


@app.route('/hello')
def hello():
    return 'Hello, World!'


@app.route('/pid')
def pid():
    return str(os.getpid())


@socketio.on('whoami')
def whoami():
    return os.getpid()


@socketio.on('join')
def on_join(room):
    join_room(room)
    return os.getpid()


@socketio.on('say')
def on_say(message):
    emit('said', {'text': message['text'], 'from': os.getpid()}, to=message['room'])
    return 'ok'


@socketio.on('stop everything')
def stop_everything():
    socketio.stop()
    return 'stopping'


if __name__ == '__main__':
    socketio.run(app, host='127.0.0.1', port=int(sys.argv[1]), workers=int(sys.argv[2]))
    print('RUN RETURNED', flush=True)
