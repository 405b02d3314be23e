// Rooms and broadcasts: join/leave acks, to-room, to-room-except-me, except-room, broadcast
// (others only) vs broadcast-all, to-socket, namespace isolation and many clients.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, startServer, connected, tracker, uniqueName } from "./support.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Messages of `event` whose payload carries `tag`. */
function tagged(client, event, tag) {
  return client.all(event).filter((args) => args[0] && args[0].tag === tag);
}

for (const mode of MODES) {
  describe(`rooms [${mode.name}]`, () => {
    const many = (n, opts) => Promise.all(Array.from({ length: n }, () => connected(server.url, mode, opts)));

    it("join and leave ack with the socket's sorted rooms", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      const r1 = uniqueName("b-room");
      const r2 = uniqueName("a-room");
      assert.deepEqual(await c.ack("join", r1), [[c.id, r1].sort()]);
      assert.deepEqual(await c.ack("join", r2), [[c.id, r1, r2].sort()]);
      assert.deepEqual(await c.ack("join", r2), [[c.id, r1, r2].sort()], "joining twice changes nothing");
      assert.deepEqual(await c.ack("leave", r1), [[c.id, r2].sort()]);
      assert.deepEqual(await c.ack("leave", "never-joined"), [[c.id, r2].sort()]);
      assert.deepEqual(await c.ack("leave", r2), [[c.id]]);
    });

    it("to-room reaches the members, sender included, and nobody else", async (t) => {
      const tr = tracker(t);
      const [a, b, outsider] = (await many(3)).map((c) => tr.add(c));
      const room = uniqueName();
      await a.ack("join", room);
      await b.ack("join", room);

      // From a non-member.
      assert.deepEqual(await outsider.ack("to-room", room, { tag: "from-outsider", n: 1 }), []);
      assert.deepEqual(await a.next("room-message"), [{ tag: "from-outsider", n: 1 }]);
      assert.deepEqual(await b.next("room-message"), [{ tag: "from-outsider", n: 1 }]);

      // From a member: the sender gets it too.
      assert.deepEqual(await a.ack("to-room", room, { tag: "from-a" }), []);
      assert.deepEqual(await a.next("room-message"), [{ tag: "from-a" }]);
      assert.deepEqual(await b.next("room-message"), [{ tag: "from-a" }]);

      await Promise.all([a.fence(), b.fence(), outsider.fence()]);
      assert.deepEqual(outsider.all("room-message"), []);
      assert.equal(a.all("room-message").length, 2);
      assert.equal(b.all("room-message").length, 2);

      // After leaving, no more messages.
      await b.ack("leave", room);
      assert.deepEqual(await a.ack("to-room", room, { tag: "after-leave" }), []);
      assert.deepEqual(await a.next("room-message"), [{ tag: "after-leave" }]);
      await b.fence();
      assert.deepEqual(tagged(b, "room-message", "after-leave"), []);
    });

    it("to-room-except-me excludes the sender", async (t) => {
      const tr = tracker(t);
      const [a, b, c] = (await many(3)).map((x) => tr.add(x));
      const room = uniqueName();
      for (const x of [a, b, c]) await x.ack("join", room);
      assert.deepEqual(await a.ack("to-room-except-me", room, { tag: "xm", v: [1] }), []);
      assert.deepEqual(await b.next("room-message"), [{ tag: "xm", v: [1] }]);
      assert.deepEqual(await c.next("room-message"), [{ tag: "xm", v: [1] }]);
      // The ack comes after any room-message the server would have queued for the sender.
      assert.deepEqual(a.all("room-message"), []);
      await a.fence();
      assert.deepEqual(a.all("room-message"), []);
    });

    it("except-room reaches every socket not in the room", async (t) => {
      const tr = tracker(t);
      const [a, member, other] = (await many(3)).map((x) => tr.add(x));
      const room = uniqueName();
      await member.ack("join", room);
      assert.deepEqual(await a.ack("except-room", room, { tag: "ex" }), []);
      assert.deepEqual(await a.next("except-message"), [{ tag: "ex" }]);
      assert.deepEqual(await other.next("except-message"), [{ tag: "ex" }]);
      await member.fence();
      assert.deepEqual(member.all("except-message"), []);
    });

    it("broadcast reaches the others only; broadcast-all reaches everyone", async (t) => {
      const tr = tracker(t);
      const [a, b, c] = (await many(3)).map((x) => tr.add(x));
      assert.deepEqual(await a.ack("broadcast", { tag: "others", s: "ü🎉" }), []);
      assert.deepEqual(await b.next("broadcast"), [{ tag: "others", s: "ü🎉" }]);
      assert.deepEqual(await c.next("broadcast"), [{ tag: "others", s: "ü🎉" }]);
      assert.deepEqual(tagged(a, "broadcast", "others"), []);
      await a.fence();
      assert.deepEqual(tagged(a, "broadcast", "others"), []);

      assert.deepEqual(await a.ack("broadcast-all", { tag: "all" }), []);
      for (const x of [a, b, c]) assert.deepEqual(await x.next("broadcast"), [{ tag: "all" }]);
      await Promise.all([a.fence(), b.fence(), c.fence()]);
      for (const x of [a, b, c]) assert.equal(tagged(x, "broadcast", "all").length, 1);
    });

    it("to-socket delivers directly to one socket by id", async (t) => {
      const tr = tracker(t);
      const [a, b, c] = (await many(3)).map((x) => tr.add(x));
      assert.deepEqual(await a.ack("to-socket", b.id, { tag: "dm", text: "hi b" }), []);
      assert.deepEqual(await b.next("direct"), [{ tag: "dm", text: "hi b" }]);
      await Promise.all([a.fence(), c.fence()]);
      assert.deepEqual(a.all("direct"), []);
      assert.deepEqual(c.all("direct"), []);
      // To oneself.
      assert.deepEqual(await c.ack("to-socket", c.id, { tag: "self" }), []);
      assert.deepEqual(await c.next("direct"), [{ tag: "self" }]);
    });

    it("binary payloads in room broadcasts", async (t) => {
      const tr = tracker(t);
      const [a, b] = (await many(2)).map((x) => tr.add(x));
      const room = uniqueName();
      await a.ack("join", room);
      await b.ack("join", room);
      const payload = { tag: "bin", data: Buffer.from([0, 1, 2, 250]), list: [Buffer.from("zz")] };
      assert.deepEqual(await a.ack("to-room", room, payload), []);
      for (const x of [a, b]) {
        const [got] = await x.next("room-message");
        assert.ok(Buffer.isBuffer(got.data) && got.data.equals(payload.data));
        assert.ok(Buffer.isBuffer(got.list[0]) && got.list[0].equals(payload.list[0]));
      }
    });

    it("rooms of different namespaces are isolated", async (t) => {
      const tr = tracker(t);
      const room = uniqueName("shared");
      const [rootMember, rootSender] = (await many(2)).map((x) => tr.add(x));
      const [customMember, customSender] = (await many(2, { nsp: "/custom" })).map((x) => tr.add(x));
      await rootMember.ack("join", room);
      await customMember.ack("join", room);

      assert.deepEqual(await customSender.ack("to-room", room, { tag: "custom-only" }), []);
      assert.deepEqual(await customMember.next("room-message"), [{ tag: "custom-only" }]);
      assert.deepEqual(await rootSender.ack("to-room", room, { tag: "root-only" }), []);
      assert.deepEqual(await rootMember.next("room-message"), [{ tag: "root-only" }]);
      await Promise.all([rootMember.fence(), customMember.fence()]);
      assert.deepEqual(rootMember.all("room-message"), [[{ tag: "root-only" }]]);
      assert.deepEqual(customMember.all("room-message"), [[{ tag: "custom-only" }]]);

      // broadcast-all on /custom does not reach /.
      assert.deepEqual(await customSender.ack("broadcast-all", { tag: "custom-all" }), []);
      assert.deepEqual(await customMember.next("broadcast"), [{ tag: "custom-all" }]);
      await rootMember.fence();
      assert.deepEqual(tagged(rootMember, "broadcast", "custom-all"), []);

      // A socket id of / is not addressable from /custom.
      assert.deepEqual(await customSender.ack("to-socket", rootMember.id, { tag: "cross" }), []);
      await rootMember.fence();
      assert.deepEqual(rootMember.all("direct"), []);
    });

    it("50 clients all receive one broadcast-all exactly once", async (t) => {
      const tr = tracker(t);
      const clients = (await many(50)).map((x) => tr.add(x));
      assert.equal(new Set(clients.map((c) => c.id)).size, 50, "socket ids are distinct");
      const tag = uniqueName("many");
      assert.deepEqual(await clients[0].ack("broadcast-all", { tag, n: 50 }), []);
      await Promise.all(clients.map(async (c) => assert.deepEqual(await c.next("broadcast"), [{ tag, n: 50 }])));
      // A second broadcast is queued after the first on every connection; once it has arrived,
      // a duplicate of the first would have too.
      assert.deepEqual(await clients[1].ack("broadcast-all", { tag: tag + "-marker" }), []);
      await Promise.all(clients.map((c) => c.next("broadcast").then((args) => assert.deepEqual(args, [{ tag: tag + "-marker" }]))));
      for (const c of clients) assert.equal(tagged(c, "broadcast", tag).length, 1);
    });
  });
}
