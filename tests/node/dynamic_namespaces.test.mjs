// Parent namespaces (Node's io.of(regex) and io.of(fn)): children made on demand with the
// parent's hooks, broadcasts on the parent reaching every child, the matcher seeing the auth,
// and cleanup_empty_child_namespaces removing a child once its last socket has left.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, SHARDS, startServer, connect, connected, manager, socketOn, tracker, sleep, WAIT_MS } from "./support.mjs";

/** Asks until `predicate(answer)` holds (the cleanup runs after the disconnect, on the server). */
async function eventually(ask, predicate) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const answer = await ask();
    if (predicate(answer) || Date.now() > deadline) return answer;
    await sleep(20);
  }
}

for (const cleanup of [false, true]) {
  describe(`parent namespaces (cleanup_empty_child_namespaces ${cleanup})`, () => {
    let server;
    before(async () => {
      server = await startServer(["--cleanup-empty-child-namespaces", cleanup ? "1" : "0"]);
    });
    after(async () => {
      await server?.stop();
    });

    for (const mode of MODES) {
      it(`[${mode.name}] a name the pattern matches gets a child with the parent's handlers`, async (t) => {
        const tr = tracker(t);
        const c = tr.add(await connected(server.url, mode, { nsp: "/dyn-17" }));
        c.emit("message", "in a child");
        assert.deepEqual(await c.next("message-back"), ["in a child"]);
        const refused = tr.add(connect(server.url, mode, { nsp: "/dyn-x" }));
        assert.equal((await refused.connectError()).message, "Invalid namespace");
      });

      it(`[${mode.name}] the parent's emit reaches every child, and only them`, async (t) => {
        const tr = tracker(t);
        const one = tr.add(await connected(server.url, mode, { nsp: "/dyn-1" }));
        const two = tr.add(await connected(server.url, mode, { nsp: "/dyn-2" }));
        const main = tr.add(await connected(server.url, mode));
        await one.ack("parent-emit", "news", { n: 1 });
        assert.deepEqual(await one.next("news"), [{ n: 1 }]);
        assert.deepEqual(await two.next("news"), [{ n: 1 }]);
        await main.fence();
        assert.deepEqual(main.all("news"), []);
        // Each server (each shard of a ShardedServer) lists the children it made.
        const children = (await two.ack("children"))[0];
        assert.ok(children.includes("/dyn-2"), JSON.stringify(children));
        if (SHARDS === 1) assert.ok(children.includes("/dyn-1"), JSON.stringify(children));
      });
    }

    it("a matcher decides on the auth: {guest: true} is let in, others are not", async (t) => {
      const tr = tracker(t);
      const mode = MODES[1];
      const guest = tr.add(await connected(server.url, mode, { nsp: "/guest-ann", auth: { guest: true } }));
      assert.deepEqual(await guest.next("auth"), [{ guest: true }]);
      const stranger = tr.add(connect(server.url, mode, { nsp: "/guest-bob", auth: { guest: false } }));
      assert.equal((await stranger.connectError()).message, "Invalid namespace");
    });

    it(`a child whose last socket left ${cleanup ? "goes" : "stays"}`, async (t) => {
      const tr = tracker(t);
      const mode = MODES[1];
      // One connection for both, so that they are on one shard of a ShardedServer.
      const shared = tr.mgr(manager(server.url, mode));
      const leaving = await socketOn(shared, mode, "/dyn-900").ready();
      const watcher = await socketOn(shared, mode, "/dyn-901").ready();
      assert.ok((await watcher.ack("children"))[0].includes("/dyn-900"));
      leaving.socket.disconnect();
      const children = await eventually(
        async () => (await watcher.ack("children"))[0],
        (names) => names.includes("/dyn-900") !== cleanup,
      );
      assert.equal(children.includes("/dyn-900"), !cleanup, JSON.stringify(children));
      assert.ok(children.includes("/dyn-901"));
      // Named again, it is made again, with the parent's handlers.
      const back = tr.add(await connected(server.url, mode, { nsp: "/dyn-900" }));
      back.emit("message", "again");
      assert.deepEqual(await back.next("message-back"), ["again"]);
    });
  });
}
