// Connection state recovery (socket.io 4.6+): the stock socket.io-client loses its connection and
// comes back with its private id and last offset; the server gives it back its id, rooms, data
// and every event it missed, once and in order. Off by default. Runs under CHAT_TEST_SHARDS=3
// too, where the client's new connection may land on another shard than its old one.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  MODES,
  SHARDS,
  WAIT_MS,
  WebSocket,
  connect,
  connected,
  reasonsWhen,
  sleep,
  startServer,
  tracker,
  uniqueName,
  withTimeout,
} from "./support.mjs";

const WINDOW_MS = 60000; // long enough that no test outlives it by accident
const SHORT_WINDOW_MS = 300; // for the test that waits it out

let server; // recovery on, middlewares skipped (Node's default)
let noskip; // recovery on, middlewares run for recovered sockets too
let short; // recovery on, a short window
let off; // recovery off (the default)
before(async () => {
  [server, noskip, short, off] = await Promise.all([
    startServer(["--connection-state-recovery", String(WINDOW_MS)]),
    startServer(["--connection-state-recovery", `${WINDOW_MS},noskip`]),
    startServer(["--connection-state-recovery", String(SHORT_WINDOW_MS)]),
    startServer([]),
  ]);
});
after(async () => {
  await Promise.all([server, noskip, short, off].map((s) => s?.stop()));
});

/** The payloads (first arguments) of every `event` the client got, each checked to carry an offset. */
function payloads(client, event) {
  return client.all(event).map((args) => {
    assert.equal(args.length, 2, `${event} carries its payload and an offset: ${JSON.stringify(args)}`);
    assert.equal(typeof args[1], "string");
    return args[0];
  });
}

/** Closes the client's transport (as a lost connection) and waits until the server noticed. */
async function loseConnection(client, observer) {
  const before = (await observer.ack("disconnect-reasons"))[0].length;
  const gone = new Promise((resolve) => client.socket.once("disconnect", resolve));
  client.socket.io.engine.close();
  await withTimeout(gone, WAIT_MS, "the client seeing its connection closed");
  await reasonsWhen(observer, (list) => list.length > before);
}

/** Reconnects a client whose transport was closed, and waits for its CONNECT. */
async function comeBack(client) {
  const back = new Promise((resolve) => client.socket.once("connect", resolve));
  client.socket.connect();
  await withTimeout(back, WAIT_MS, `the client reconnecting; received: ${client.describeLog()}`);
  return client;
}

for (const mode of MODES.filter((m) => !m.upgrade)) {
  describe(`connection state recovery [${mode.name}]`, () => {
    it("gives back the id, rooms and data, and every missed event once, in order, before connect", async (t) => {
      const tr = tracker(t);
      const a = tr.add(await connected(server.url, mode));
      const b = tr.add(await connected(server.url, mode));
      const room = uniqueName();
      const other = uniqueName("other");
      await a.ack("join", room);
      await a.ack("set-data", { name: "a", n: 1 });
      assert.equal(a.socket.recovered, false);
      const id = a.id;

      await loseConnection(a, b);
      // Sent while a is away: to its room, to it alone, to everyone; and two it must not get.
      await b.ack("to-room", room, { n: 1 });
      await b.ack("to-socket", id, { n: 2 });
      await b.ack("to-room", room, { n: 3 });
      await b.ack("broadcast-all", { n: 4 });
      await b.ack("except-room", room, { n: 5 });
      await b.ack("to-room", other, { n: 6 });
      const connects = a.all("connect").length;
      const seen = a.log.length;

      await comeBack(a);
      assert.equal(a.socket.recovered, true);
      assert.equal(a.id, id);
      assert.deepEqual(await a.ack("recovered"), [true]);
      assert.deepEqual(await a.ack("rooms"), [[id, room].sort()]);
      assert.deepEqual(await a.ack("get-data"), [{ name: "a", n: 1 }]);
      assert.equal(a.all("connect").length, connects + 1);

      // Missed: in the order sent, each once, all before the client's connect event.
      const missed = a.log.slice(seen).filter((e) => e.event !== "connect");
      const connectAt = a.log.slice(seen).findIndex((e) => e.event === "connect");
      assert.deepEqual(
        missed.slice(0, 4).map((e) => [e.event, e.args[0]]),
        [
          ["room-message", { n: 1 }],
          ["direct", { n: 2 }],
          ["room-message", { n: 3 }],
          ["broadcast", { n: 4 }],
        ],
      );
      assert.ok(connectAt >= 4, `the missed events come before connect: ${a.describeLog()}`);

      // The room still works after the recovery, and nothing came twice.
      await b.ack("to-room", room, { n: 7 });
      await a.fence();
      assert.deepEqual(payloads(a, "room-message"), [{ n: 1 }, { n: 3 }, { n: 7 }]);
      assert.deepEqual(payloads(a, "direct"), [{ n: 2 }]);
      assert.deepEqual(payloads(a, "broadcast"), [{ n: 4 }]);
      assert.deepEqual(a.all("except-message"), []);
    });

    it("recovers again after a second loss, with what was missed the second time only", async (t) => {
      const tr = tracker(t);
      const a = tr.add(await connected(server.url, mode));
      const b = tr.add(await connected(server.url, mode));
      const room = uniqueName();
      await a.ack("join", room);
      const id = a.id;
      const shards = new Set([(await a.ack("shard"))[0]]);
      for (const n of [1, 2]) {
        await loseConnection(a, b);
        await b.ack("to-room", room, { n });
        await comeBack(a);
        assert.equal(a.socket.recovered, true);
        assert.equal(a.id, id);
        shards.add((await a.ack("shard"))[0]);
      }
      // New connections go to the shards in turn: with several, the client came back on
      // another shard than the one that kept its session.
      if (SHARDS > 1) assert.ok(shards.size > 1, `served by shards ${[...shards]}`);
      await a.fence();
      assert.deepEqual(payloads(a, "room-message"), [{ n: 1 }, { n: 2 }]);
      assert.deepEqual(await a.ack("rooms"), [[id, room].sort()]);
    });

    it("skips the middlewares of a recovered socket by default, and runs them with skip_middlewares false", async (t) => {
      const tr = tracker(t);
      for (const [target, skipped] of [
        [server, true],
        [noskip, false],
      ]) {
        const a = tr.add(await connected(target.url, mode));
        const b = tr.add(await connected(target.url, mode));
        const [before] = await a.ack("middleware-runs");
        await loseConnection(a, b);
        await comeBack(a);
        assert.equal(a.socket.recovered, true);
        const [after] = await a.ack("middleware-runs");
        assert.equal(after - before, skipped ? 0 : 1, `middlewares ran ${after - before} times`);
        // The connect hook runs either way (it emits auth, with the pid and offset shown).
        const auths = a.all("auth");
        assert.equal(auths.length, 2);
        assert.equal(typeof auths[1][0].pid, "string");
        assert.equal(typeof auths[1][0].offset, "string");
      }
    });

    it("gives a fresh socket once the window has passed", async (t) => {
      const tr = tracker(t);
      const a = tr.add(await connected(short.url, mode));
      const b = tr.add(await connected(short.url, mode));
      const room = uniqueName();
      await a.ack("join", room);
      const id = a.id;
      await loseConnection(a, b);
      await b.ack("to-room", room, { n: 1 });
      await sleep(SHORT_WINDOW_MS * 3);
      await comeBack(a);
      assert.equal(a.socket.recovered, false);
      assert.notEqual(a.id, id);
      assert.deepEqual(await a.ack("recovered"), [false]);
      assert.deepEqual(await a.ack("rooms"), [[a.id]]);
      await a.fence();
      assert.deepEqual(a.all("room-message"), []);
    });

    it("is off by default: no pid, no offsets, a fresh socket on reconnection", async (t) => {
      const tr = tracker(t);
      const a = tr.add(await connected(off.url, mode));
      const b = tr.add(await connected(off.url, mode));
      const [auth] = await a.next("auth");
      assert.deepEqual(auth, {});
      assert.deepEqual(await a.ack("message-with-ack", "x"), ["x"]);
      a.emit("message", "y");
      assert.deepEqual(await a.next("message-back"), ["y"]);
      const id = a.id;
      await loseConnection(a, b);
      await comeBack(a);
      assert.ok(!a.socket.recovered);
      assert.notEqual(a.id, id);
    });
  });
}

/** A raw Socket.IO client over one WebSocket: every text frame it got, and a way to wait for one. */
async function rawSocket(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const frames = [];
  const waiters = [];
  ws.on("message", (data, binary) => {
    if (binary) return;
    const text = data.toString();
    if (text === "2") return ws.send("3"); // answer pings
    frames.push(text);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise((resolve) => ws.on("close", resolve));
  await withTimeout(new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  }), WAIT_MS, "the raw WebSocket opening");
  return {
    ws,
    frames,
    closed,
    /** The first frame from `from` on that `test` accepts. */
    async frame(test, from = 0) {
      for (;;) {
        const found = frames.slice(from).find(test);
        if (found !== undefined) return found;
        await withTimeout(new Promise((resolve) => waiters.push(resolve)), WAIT_MS, `a frame; got ${JSON.stringify(frames)}`);
      }
    },
  };
}

describe("connection state recovery on the wire", () => {
  it("CONNECT carries a pid; events carry an offset as last argument, acks none", async () => {
    const raw = await rawSocket(server.port);
    try {
      raw.ws.send("40");
      const reply = JSON.parse((await raw.frame((f) => f.startsWith("40"))).slice(2));
      assert.deepEqual(Object.keys(reply).sort(), ["pid", "sid"]);
      assert.equal(typeof reply.pid, "string");
      assert.notEqual(reply.pid, reply.sid);
      const auth = JSON.parse((await raw.frame((f) => f.startsWith('42["auth"'))).slice(2));
      assert.equal(auth.length, 3);
      assert.deepEqual(auth[1], {});
      assert.equal(typeof auth[2], "string");
      raw.ws.send('421["message-with-ack","y"]');
      assert.equal(await raw.frame((f) => f.startsWith("431")), '431["y"]');
    } finally {
      raw.ws.close();
    }
  });

  it("a binary event carries its offset after its attachments' placeholders", async (t) => {
    const tr = tracker(t);
    const a = tr.add(await connected(server.url, MODES[1]));
    a.emit("message", Buffer.from([1, 2, 255]), { text: "t" });
    const [bytes, object, offset] = await a.next("message-back");
    assert.deepEqual([...bytes], [1, 2, 255]);
    assert.deepEqual(object, { text: "t" });
    assert.equal(typeof offset, "string");
    assert.equal(a.socket._lastOffset, offset);
  });

  it("without recovery, CONNECT has the sid alone and events no offset", async () => {
    const raw = await rawSocket(off.port);
    try {
      raw.ws.send("40");
      const reply = JSON.parse((await raw.frame((f) => f.startsWith("40"))).slice(2));
      assert.deepEqual(Object.keys(reply), ["sid"]);
      assert.equal(await raw.frame((f) => f.startsWith('42["auth"')), '42["auth",{}]');
    } finally {
      raw.ws.close();
    }
  });

  it("a client back before its old connection was noticed dead takes over: the old one is closed, the recovered socket keeps its rooms", async (t) => {
    const tr = tracker(t);
    const observer = tr.add(await connected(server.url, MODES[1]));
    const old = await rawSocket(server.port);
    old.ws.send("40");
    const { sid, pid } = JSON.parse((await old.frame((f) => f.startsWith("40"))).slice(2));
    const room = uniqueName();
    old.ws.send(`421["join","${room}"]`);
    await old.frame((f) => f.startsWith("431"));
    old.ws.send('422["message-with-ack","fence"]');
    await old.frame((f) => f.startsWith("432"));
    const offsets = old.frames.filter((f) => f.startsWith("42")).map((f) => JSON.parse(f.slice(2)).at(-1));
    const offset = offsets.at(-1);

    // The old connection is still open, as far as the server knows, when the client comes back.
    const closes = (list) => list.filter((r) => r === "/ transport close").length;
    const closesBefore = closes((await observer.ack("disconnect-reasons"))[0]);
    const back = await rawSocket(server.port);
    try {
      back.ws.send(`40${JSON.stringify({ pid, offset })}`);
      const reply = JSON.parse((await back.frame((f) => f.startsWith("40"))).slice(2));
      assert.deepEqual(reply, { sid, pid });
      await withTimeout(old.closed, WAIT_MS, "the server closing the old connection");
      await reasonsWhen(observer, (list) => closes(list) > closesBefore);
      // The old socket's end left the recovered one alone: same id, room, and the room reaches it.
      back.ws.send('421["rooms"]');
      assert.equal(await back.frame((f) => f.startsWith("431")), `431${JSON.stringify([[sid, room].sort()])}`);
      await observer.ack("to-room", room, { after: "takeover" });
      const got = JSON.parse((await back.frame((f) => f.startsWith('42["room-message"'))).slice(2));
      assert.deepEqual(got.slice(0, 2), ["room-message", { after: "takeover" }]);
      assert.deepEqual(back.frames.filter((f) => f.startsWith('42["room-message"')).length, 1);
    } finally {
      back.ws.close();
      old.ws.close();
    }
  });

  it("an unknown pid or offset gets a fresh socket", async () => {
    for (const auth of [{ pid: "unknown", offset: "unknown" }, { pid: 1, offset: 2 }]) {
      const raw = await rawSocket(server.port);
      try {
        raw.ws.send(`40${JSON.stringify(auth)}`);
        const reply = JSON.parse((await raw.frame((f) => f.startsWith("40"))).slice(2));
        assert.deepEqual(Object.keys(reply).sort(), ["pid", "sid"]);
        assert.notEqual(reply.pid, auth.pid);
        raw.ws.send('421["recovered"]');
        assert.equal(await raw.frame((f) => f.startsWith("431")), "431[false]");
      } finally {
        raw.ws.close();
      }
    }
  });
});
