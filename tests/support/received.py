"""What a python-socketio test client received, queued per (namespace, event).

python-engineio's client runs each received message in a thread of its own, so arrivals are
queued per name, under a lock, and never compared for order across names."""
import queue
import threading


class Received:
    def __init__(self):
        self._queues = {}
        self._lock = threading.Lock()

    def queue(self, ns, event):
        with self._lock:
            return self._queues.setdefault((ns, event), queue.Queue())

    def put(self, ns, event, args):
        self.queue(ns, event).put(args)

    def next(self, ns, event, timeout):
        """The argument tuple of the next `event` on `ns` not yet consumed."""
        try:
            return self.queue(ns, event).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no %r event on %s within %.0f s" % (event, ns, timeout))

    def pending(self, ns, event):
        """Every `event` on `ns` received and not yet consumed, taken."""
        q = self.queue(ns, event)
        out = []
        while True:
            try:
                out.append(q.get_nowait())
            except queue.Empty:
                return out
