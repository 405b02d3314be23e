"""What breaks with several worker processes behind one port: connects python-socketio's own
client (Debian's python3-socketio) to a running bench server and counts what works. Run by
bench/run --workers; run with Debian's /usr/bin/python3.

    /usr/bin/python3 bench/workers_check.py --port P [--clients 20] [--timeout 5]

First the mechanism: --clients Engine.IO polling handshakes, each followed by the Socket.IO CONNECT
POST on a new TCP connection, counting the POSTs answered "ok" and those refused (Flask-SocketIO:
400 "Invalid session" when the POST reaches a worker that does not know the session). Then for
each transport setting (polling only; polling then the upgrade to WebSocket, the client's
default; WebSocket only) it connects --clients clients at once and counts those that connected,
those whose first 'echo' was acknowledged, and those that then got 5 more acks over 2 s and were
still connected ("held"). Then the rooms: --clients WebSocket clients each send 'join' (the server
puts them in the room 'bench' and answers with its worker's pid), one of them sends 'shout', and it
counts who got the room's 'shout', on the sender's worker and on the others. Prints one JSON line.
Every wait is bounded by --timeout.
"""
import argparse
import collections
import json
import logging
import os
import sys
import threading
import time

import requests
import socketio

TRANSPORTS = {"polling": ["polling"], "upgrade": ["polling", "websocket"], "websocket": ["websocket"]}


def short(error):
    if isinstance(error, TimeoutError):
        return str(error)
    text = "%s: %s" % (type(error).__name__, error) if str(error) else type(error).__name__
    return text[:120]


def raw_polling_round(url, sessions, timeout):
    """The mechanism under python-socketio's client, without its keep-alive: per session an
    Engine.IO handshake (GET), then the Socket.IO CONNECT packet (POST "40"), each on a new TCP
    connection as a browser or a proxy may open them. Counts the POSTs answered "ok" and those
    refused because the process that got them does not know the session."""
    answers = collections.Counter()
    for _ in range(sessions):
        try:
            r = requests.get(url + "/socket.io/?EIO=4&transport=polling", timeout=timeout,
                             headers={"Connection": "close"})
            sid = json.loads(r.text[1:])["sid"]
            r = requests.post(url + "/socket.io/?EIO=4&transport=polling&sid=" + sid, data="40", timeout=timeout,
                              headers={"Connection": "close", "Content-Type": "text/plain;charset=UTF-8"})
            answers["ok" if r.status_code == 200 else "%d %s" % (r.status_code, r.text.strip()[:60])] += 1
        except Exception as e:  # noqa: BLE001 - counted by its message
            answers[short(e)] += 1
    return {"sessions": sessions, "ok": answers.pop("ok", 0), "refused": dict(answers)}


def call(client, timeout, *args):
    try:
        return client.call(*args, timeout=timeout)
    except socketio.exceptions.TimeoutError:
        raise TimeoutError("no ack in %g s" % timeout) from None


def try_client(url, transports, timeout, errors):
    """One client's life: connect, ack, 5 more acks over 2 s. Returns (client, stage reached)."""
    client = socketio.Client(reconnection=False)
    stage = "none"
    try:
        client.connect(url, transports=transports, wait_timeout=timeout)
        stage = "connected"
        call(client, timeout, "echo", "hello")
        stage = "acked"
        for _ in range(5):
            time.sleep(0.4)
            call(client, timeout, "echo", "again")
        if client.connected:
            stage = "held"
    except Exception as e:  # noqa: BLE001 - each failure is counted, with its message
        errors[short(e)] += 1
    return client, stage


def transport_round(url, name, clients, timeout):
    errors = collections.Counter()
    outcomes = [None] * clients

    def run(i):
        outcomes[i] = try_client(url, TRANSPORTS[name], timeout, errors)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    deadline = time.time() + 4 * timeout + 10
    for t in threads:
        t.join(max(0.0, deadline - time.time()))
    stages = [o[1] if o else "none" for o in outcomes]
    order = ["none", "connected", "acked", "held"]
    reached = {s: sum(1 for st in stages if order.index(st) >= order.index(s)) for s in order[1:]}
    for o in outcomes:
        if o:
            try:
                o[0].disconnect()
            except Exception:  # noqa: BLE001
                pass
    return {"transport": name, "clients": clients, "connected": reached["connected"], "acked": reached["acked"],
            "held": reached["held"], "errors": dict(errors.most_common(4))}


def rooms_round(url, clients, timeout):
    """Every client joins 'bench' (learning its worker's pid); the first shouts; who hears it?"""
    got = {}
    pids = {}
    members = []
    token = "shout-%d" % os.getpid()
    for i in range(clients):
        c = socketio.Client(reconnection=False)

        def on_shout(*args, i=i):
            if token in args:
                got[i] = True

        c.on("shout", on_shout)
        try:
            c.connect(url, transports=["websocket"], wait_timeout=timeout)
            pids[i] = c.call("join", timeout=timeout)
            members.append((i, c))
        except Exception:  # noqa: BLE001 - a client that could not join is not counted as a member
            try:
                c.disconnect()
            except Exception:  # noqa: BLE001
                pass
    result = {"joined": len(members), "workers_seen": len(set(pids.values()))}
    if members:
        sender_pid = pids[members[0][0]]
        try:
            members[0][1].call("shout", token, timeout=timeout)
        except Exception as e:  # noqa: BLE001
            result["shout_error"] = short(e)
        deadline = time.time() + 2.0
        while time.time() < deadline and len(got) < len(members):
            time.sleep(0.05)
        same = [i for i, _ in members if pids[i] == sender_pid]
        other = [i for i, _ in members if pids[i] != sender_pid]
        result.update({"on_sender_worker": len(same), "reached_on_sender_worker": sum(1 for i in same if i in got),
                       "on_other_workers": len(other), "reached_on_other_workers": sum(1 for i in other if i in got)})
    for _, c in members:
        try:
            c.disconnect()
        except Exception:  # noqa: BLE001
            pass
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--timeout", type=float, default=5.0)
    o = p.parse_args()
    logging.disable(logging.CRITICAL)  # the clients' own error logs; failures are counted instead
    url = "http://127.0.0.1:%d" % o.port
    out = {"raw_polling": raw_polling_round(url, o.clients, o.timeout),
           "transports": [transport_round(url, name, o.clients, o.timeout) for name in TRANSPORTS],
           "rooms": rooms_round(url, o.clients, o.timeout)}
    print(json.dumps(out), flush=True)
    sys.stdout.flush()
    os._exit(0)  # a polling client stuck in a request to the wrong worker must not hold the exit


if __name__ == "__main__":
    main()
