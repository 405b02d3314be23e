// Events and acknowledgements: echo round trips, client acks, client-side ack timeouts,
// server-to-client acks (`ask`), the catch-all handler and handler exceptions.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, BURST, assertBurst, startServer, connected, tracker } from "./support.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const MIXED = [
  1,
  -42,
  3.5,
  0,
  9007199254740991,
  "two",
  "",
  { nested: { deep: [1, { x: null, y: false }], empty: {} }, list: [] },
  [1, "a", [true, false, [null]], { k: "v" }],
  null,
  true,
  "héllo wörld ✓ 🎉 👩‍💻 中文 \u0000 \"quoted\" back\\slash\nnewline\ttab",
  { "ключ": "значение", "🚀": ["🌍", { "é": 1 }] },
];

for (const mode of MODES) {
  describe(`events [${mode.name}]`, () => {
    it("message -> message-back echoes mixed args", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.emit("message", ...MIXED);
      assert.deepEqual(await c.next("message-back"), MIXED);
    });

    it("message with no args and with one arg", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.emit("message");
      assert.deepEqual(await c.next("message-back"), []);
      c.emit("message", "solo");
      assert.deepEqual(await c.next("message-back"), ["solo"]);
    });

    it("several messages come back in order", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      for (let i = 0; i < 20; i++) c.emit("message", i, `n${i}`);
      for (let i = 0; i < 20; i++) assert.deepEqual(await c.next("message-back"), [i, `n${i}`]);
    });

    it("a burst of short and long, text and binary messages in one turn arrives whole and in order", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      // The ack leaves behind the burst: every message is in by then.
      assert.deepEqual(await c.ack("burst", BURST), [BURST]);
      assertBurst(c.all("burst"));
    });

    it("a burst of 2,000 short messages (several joined writes' worth) arrives whole and in order", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      assert.deepEqual(await c.ack("burst", 2000, false, true), [2000]);
      assertBurst(c.all("burst"), 2000, true);
    });

    it("a disconnect behind a burst arrives after every message of it", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.emit("burst", BURST, true);
      const [reason] = await c.next("disconnect");
      assert.equal(reason, "io server disconnect");
      assertBurst(c.all("burst"));
    });

    it("message-with-ack acks with the same args (emitWithAck and a callback)", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      assert.equal(await c.socket.emitWithAck("message-with-ack", "first"), "first");
      assert.deepEqual(await c.socket.emitWithAck("message-with-ack", { a: [1, 2] }, 3), { a: [1, 2] });
      assert.deepEqual(await c.ack("message-with-ack", ...MIXED), MIXED);
      assert.deepEqual(await c.ack("message-with-ack"), []);
      // Several acks in flight at once each get their own answer.
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => c.ack("message-with-ack", i)));
      assert.deepEqual(answers, Array.from({ length: 10 }, (_, i) => [i]));
    });

    it("an event the server does not ack times out on the client; catch-all still sees it", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      await assert.rejects(c.socket.timeout(200).emitWithAck("no-such-ack-event", 1, "x"), {
        message: "operation has timed out",
      });
      assert.deepEqual(await c.next("catch-all"), ["no-such-ack-event", 1, "x"]);
      assert.equal(c.socket.connected, true);
      assert.deepEqual(await c.ack("message-with-ack", "alive"), ["alive"]);
    });

    it("catch-all receives unknown events with their args", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.emit("some-unknown-event", 1, { a: "b" }, [null]);
      assert.deepEqual(await c.next("catch-all"), ["some-unknown-event", 1, { a: "b" }, [null]]);
      c.emit("ünïcødé-🎉");
      assert.deepEqual(await c.next("catch-all"), ["ünïcødé-🎉"]);
      c.emit("another", ...MIXED);
      assert.deepEqual(await c.next("catch-all"), ["another", ...MIXED]);
    });

    it("ask: the client answers the question and the server emits answer with the args", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.socket.on("question", (...args) => {
        const cb = args.pop();
        assert.equal(typeof cb, "function");
        cb("yes", 42, { echo: args }, ["ü", null]);
      });
      c.emit("ask", 3000, "q1", { x: 1 });
      const q = await c.next("question");
      assert.equal(typeof q[q.length - 1], "function", "question must come with an ack id");
      assert.deepEqual(q.slice(0, -1), ["q1", { x: 1 }]);
      assert.deepEqual(await c.next("answer"), ["yes", 42, { echo: ["q1", { x: 1 }] }, ["ü", null]]);
      assert.deepEqual(c.all("answer-timeout"), []);
    });

    it("ask: an answer with no args", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.socket.on("question", (...args) => args.pop()());
      c.emit("ask", 3000);
      const q = await c.next("question");
      assert.equal(q.length, 1);
      assert.deepEqual(await c.next("answer"), []);
    });

    it("ask: a question the client never answers gives answer-timeout", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.emit("ask", 200, "q2", [1, 2]);
      const q = await c.next("question");
      assert.equal(typeof q[q.length - 1], "function");
      assert.deepEqual(q.slice(0, -1), ["q2", [1, 2]]);
      await c.next("answer-timeout");
      // A late answer after the timeout is ignored.
      q[q.length - 1]("too late");
      await c.fence();
      assert.deepEqual(c.all("answer"), []);
      assert.equal(c.socket.connected, true);
    });

    it("throw does not kill the server and errors lists boom", async (t) => {
      const tr = tracker(t);
      const own = await startServer();
      t.after(() => own.stop());
      const c = tr.add(await connected(own.url, mode));
      const other = tr.add(await connected(own.url, mode, { nsp: "/custom" }));
      assert.deepEqual(await c.ack("errors"), [[]]);
      c.emit("throw");
      c.emit("message", "after throw");
      assert.deepEqual(await c.next("message-back"), ["after throw"]);
      assert.deepEqual(await c.ack("message-with-ack", "next"), ["next"]);
      assert.deepEqual(await other.ack("message-with-ack", "other"), ["other"]);
      assert.deepEqual(await c.ack("errors"), [["boom"]]);
      other.emit("throw");
      assert.deepEqual(await other.ack("errors"), [["boom", "boom"]]);
      assert.equal(c.socket.connected, true);
      assert.equal(other.socket.connected, true);
      assert.deepEqual(c.all("disconnect"), []);
      assert.deepEqual(other.all("disconnect"), []);
    });

    it("events on /custom behave like on /", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, { nsp: "/custom" }));
      c.emit("message", ...MIXED);
      assert.deepEqual(await c.next("message-back"), MIXED);
      assert.deepEqual(await c.ack("message-with-ack", "x", 1), ["x", 1]);
      c.emit("whatever", 5);
      assert.deepEqual(await c.next("catch-all"), ["whatever", 5]);
    });
  });
}
