// Emit flags and ack forms of Node's server API: volatile emits (to one socket and broadcast),
// acknowledgements awaited through C++ futures (one socket, and a broadcast with a timeout),
// and any-listeners (socket.onAny, prependAny, offAny, onAnyOutgoing).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, SHARDS, startServer, connected, tracker } from "./support.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const values = (c, event) => c.all(event).map((args) => args[0]);

for (const mode of MODES) {
  const overWebSocket = mode.name !== "polling";

  describe(`volatile [${mode.name}]`, () => {
    it("a volatile emit after a plain one, still being written, is dropped; the plain one arrives", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      await c.fence();
      await c.ack("volatile-burst");
      await c.fence();
      assert.deepEqual(values(c, "plain"), [2]);
      // Over WebSocket the transport was idle for the first: it leaves. Over polling it leaves
      // only if a GET was waiting at that moment.
      if (overWebSocket) assert.deepEqual(values(c, "volatile"), [1]);
      else assert.ok(!values(c, "volatile").includes(3), c.describeLog());
    });

    it("volatile broadcasts: every socket gets the plain one and none the volatile one behind it", async (t) => {
      const tr = tracker(t);
      const a = tr.add(await connected(server.url, mode));
      const b = tr.add(await connected(server.url, mode));
      await a.fence();
      await b.fence();
      await a.ack("volatile-broadcast-burst");
      await a.fence();
      await b.next("plain");
      await b.fence();
      for (const c of [a, b]) {
        assert.deepEqual(values(c, "plain"), [2]);
        // One server delivers the three in one go; on other shards they come one hand-off at a
        // time, and a write may complete between two of them.
        if (SHARDS === 1) {
          assert.ok(!values(c, "volatile").includes(3), c.describeLog());
          if (overWebSocket) assert.deepEqual(values(c, "volatile"), [1]);
        } else {
          const seen = values(c, "volatile");
          assert.deepEqual(seen, [...new Set(seen)].sort(), c.describeLog());
        }
      }
    });
  });

  describe(`acks through futures [${mode.name}]`, () => {
    it("one socket: the answer, then the timeout's error when it does not answer", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.socket.once("question", (...args) => args.pop()("yes", { q: args }));
      await c.ack("ask-future", 3000, "q1");
      assert.deepEqual(await c.next("future-answer"), [null, ["yes", { q: ["q1"] }]]);
      await c.ack("ask-future", 150, "never answered");
      assert.deepEqual(await c.next("future-answer"), ["operation has timed out", null]);
    });

    it("a broadcast: every answer; on a timeout the error and the answers that came", async (t) => {
      const tr = tracker(t);
      // On /custom, which no other test of this file uses: every socket there is ours.
      const a = tr.add(await connected(server.url, mode, { nsp: "/custom" }));
      const b = tr.add(await connected(server.url, mode, { nsp: "/custom" }));
      a.socket.on("question", (...args) => args.pop()("a"));
      b.socket.on("question", (...args) => args.pop()("b"));
      await a.ack("ask-all-future", 3000);
      const [error, answers] = await a.next("future-answer");
      assert.equal(error, null);
      assert.deepEqual(answers.map((x) => x[0]).sort(), ["a", "b"]);
      b.socket.off("question");
      b.socket.on("question", () => {}); // heard, never answered
      await a.ack("ask-all-future", 200);
      const [late, partial] = await a.next("future-answer");
      assert.equal(late, "operation has timed out");
      assert.deepEqual(partial, [["a"]]);
    });
  });

  describe(`any-listeners [${mode.name}]`, () => {
    it("onAny and prependAny see every event in order before the handler; offAny removes them", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      await c.ack("listen-any");
      c.emit("message", "hi", { n: 1 });
      assert.deepEqual(await c.next("any-seen"), ["first", "message", ["hi", { n: 1 }]]);
      assert.deepEqual(await c.next("any-seen"), ["second", "message", ["hi", { n: 1 }]]);
      assert.deepEqual(await c.next("message-back"), ["hi", { n: 1 }]);
      await c.ack("off-any"); // the second goes
      c.emit("unknown-event", 7);
      assert.deepEqual(await c.next("catch-all"), ["unknown-event", 7]);
      await c.fence();
      const seen = c.all("any-seen").slice(2);
      assert.deepEqual(seen.map((x) => [x[0], x[1]]), [["first", "unknown-event"], ["first", "message-with-ack"]]);
      await c.ack("off-any", true); // every one
      await c.fence();
      assert.equal(c.all("any-seen").length, 2 + 2, c.describeLog());
    });

    it("onAnyOutgoing sees the socket's own emits and broadcasts, not acknowledgements", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      await c.ack("listen-any");
      c.emit("message", "out");
      await c.next("message-back");
      await c.ack("broadcast-all", "to everyone");
      await c.next("broadcast");
      const outgoing = (await c.ack("outgoing-seen"))[0];
      // Other tests' clients may broadcast too: ours are the first two, in order.
      assert.deepEqual(outgoing.slice(0, 2), [["message-back", ["out"]], ["broadcast", ["to everyone"]]]);
    });
  });
}
