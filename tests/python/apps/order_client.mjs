// socket.io-client (Node) scenarios for tests/python/test_handler_calls.py: what the server sends,
// in the order this client gets it (socket.io-client hands packets to its listeners one at a
// time, in order, which python-socketio's client does not: it runs each in a thread).
//
//   node order_client.mjs <scenario> <url> <transport: polling|websocket|default> [args...]
//
// Prints one line of JSON and exits 0, or prints {"error": "..."} and exits 1. Every wait is
// bounded.
import { connected, io, runScenario, timeout, transportOptions, WAIT_MS } from "./scenario.mjs";

const [scenario, url, transport, ...args] = process.argv.slice(2);

function connect() {
  return io(url, { forceNew: true, reconnection: false, timeout: WAIT_MS, ...transportOptions(transport) });
}

/// Everything `socket` receives from now on, events as [name, ...args].
function record(socket) {
  const log = [];
  socket.onAny((event, ...values) => log.push([event, ...values]));
  return log;
}

/// Resolves once `socket` received `event`.
function arrival(socket, event) {
  return timeout(new Promise((resolve) => socket.once(event, resolve)), `event ${event}`);
}

const scenarios = {
  // One handler's emits, room changes and acknowledgement, as they arrive.
  async sequence() {
    const socket = connect();
    const log = record(socket);
    await connected(socket);
    await timeout(new Promise((resolve) => socket.emit("sequence", (...reply) => {
      log.push(["ack", ...reply]);
      resolve();
    })), "ack of sequence");
    socket.disconnect();
    return { log };
  },

  // Two clients: the first one's handler sends to the second, moves it in and out of rooms and
  // sends to those rooms; what the second gets, in order.
  async across() {
    const rounds = Number(args[0]);
    const sender = connect();
    const receiver = connect();
    const log = record(receiver);
    await Promise.all([connected(sender), connected(receiver)]);
    const end = arrival(receiver, "end");
    await timeout(new Promise((resolve) => sender.emit("across", receiver.id, rounds, resolve)), "ack of across");
    await end;
    sender.disconnect();
    receiver.disconnect();
    return { log };
  },
};

await runScenario(scenarios, scenario);
