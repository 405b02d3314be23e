"""A Flask-SocketIO style app in a Redis cluster, run in subprocesses by
tests/python/test_message_queue.py: two of them share one Redis.

    python cluster_app.py PORT REDIS_URL

The handlers are what a Flask-SocketIO app on a message queue writes: emits to rooms, to
everyone, close_room, and ignore_queue for this server's clients only.
"""
import sys

from flask import Flask

from chat import SocketIO, close_room, emit, join_room

app = Flask(__name__)
socketio = SocketIO(app, message_queue=sys.argv[2], cors_allowed_origins='*')


@app.route('/hello')
def hello():
    return 'Hello, World!'


@socketio.on('join')
def on_join(room):
    join_room(room)
    return 'joined ' + room


@socketio.on('say')
def on_say(message):
    emit('said', {'text': message['text'], 'port': sys.argv[1]}, to=message['room'])
    return 'ok'


@socketio.on('say all')
def on_say_all(text):
    socketio.emit('said', {'text': text, 'port': sys.argv[1]})
    return 'ok'


@socketio.on('say here')
def on_say_here(text):
    socketio.emit('said', {'text': text, 'port': sys.argv[1]}, ignore_queue=True)
    return 'ok'


@socketio.on('close')
def on_close(room):
    close_room(room)
    return 'ok'


if __name__ == '__main__':
    socketio.run(app, host='127.0.0.1', port=int(sys.argv[1]))
    print('RUN RETURNED', flush=True)
