// Disconnections: disconnect-me, close-me, and the reasons the server records
// (`disconnect-reasons`). Tests that assert the exact reason list use a server of their own.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  MODES,
  WAIT_MS,
  startServer,
  connected,
  manager,
  socketOn,
  tracker,
  reasonsWhen,
  withTimeout,
} from "./support.mjs";

// What a client may see when the server closes its whole connection: Node's
// socket.disconnect(true) sends DISCONNECT first ("io server disconnect"); a bare engine close
// gives "transport close".
const CLOSE_REASONS = ["io server disconnect", "transport close"];

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

async function ownServer(t) {
  const own = await startServer();
  t.after(() => own.stop());
  return own;
}

for (const mode of MODES) {
  describe(`disconnect [${mode.name}]`, () => {
    it("disconnect-me: the client sees io server disconnect; others keep working", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      const other = tr.add(await connected(server.url, mode));
      c.emit("disconnect-me");
      const [reason] = await c.next("disconnect");
      assert.equal(reason, "io server disconnect");
      assert.equal(c.socket.connected, false);
      assert.deepEqual(await other.ack("message-with-ack", "ok"), ["ok"]);
      assert.deepEqual(other.all("disconnect"), []);
    });

    it("disconnect-me on /custom leaves / on the same engine connected", async (t) => {
      const tr = tracker(t);
      const own = await ownServer(t);
      const observer = tr.add(await connected(own.url, mode));
      const mgr = tr.mgr(manager(own.url, mode));
      const a = tr.add(socketOn(mgr, mode, "/"));
      const b = tr.add(socketOn(mgr, mode, "/custom"));
      await Promise.all([a.ready(), b.ready()]);
      b.emit("disconnect-me");
      assert.equal((await b.next("disconnect"))[0], "io server disconnect");
      assert.deepEqual(await a.ack("message-with-ack", "root alive"), ["root alive"]);
      assert.equal(mgr.engine.readyState, "open");
      assert.deepEqual(a.all("disconnect"), []);
      assert.deepEqual(await observer.ack("disconnect-reasons"), [["/custom server namespace disconnect"]]);
    });

    it("close-me closes the Engine.IO connection; other clients keep working", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      const other = tr.add(await connected(server.url, mode));
      const engine = c.socket.io.engine;
      const engineClosed = new Promise((resolve) => engine.once("close", (reason) => resolve(reason)));
      c.emit("close-me");
      const [reason] = await c.next("disconnect");
      assert.ok(CLOSE_REASONS.includes(reason), `unexpected disconnect reason ${JSON.stringify(reason)}`);
      assert.equal(c.socket.connected, false);
      await withTimeout(engineClosed, WAIT_MS, "the Engine.IO connection closing");
      assert.equal(engine.readyState, "closed");
      assert.deepEqual(await other.ack("message-with-ack", "ok"), ["ok"]);
      other.emit("message", "still");
      assert.deepEqual(await other.next("message-back"), ["still"]);
      assert.deepEqual(other.all("disconnect"), []);
    });

    it("close-me disconnects every namespace of that client", async (t) => {
      const tr = tracker(t);
      const own = await ownServer(t);
      const observer = tr.add(await connected(own.url, mode));
      const mgr = tr.mgr(manager(own.url, mode));
      const a = tr.add(socketOn(mgr, mode, "/"));
      const b = tr.add(socketOn(mgr, mode, "/custom"));
      await Promise.all([a.ready(), b.ready()]);
      const engine = mgr.engine;
      const engineClosed = new Promise((resolve) => engine.once("close", (reason) => resolve(reason)));
      b.emit("close-me");
      const [ra] = await a.next("disconnect");
      const [rb] = await b.next("disconnect");
      assert.ok(CLOSE_REASONS.includes(ra), `/ got ${JSON.stringify(ra)}`);
      assert.ok(CLOSE_REASONS.includes(rb), `/custom got ${JSON.stringify(rb)}`);
      await withTimeout(engineClosed, WAIT_MS, "the Engine.IO connection closing");
      // The server records one disconnect per namespace of that client.
      const reasons = await reasonsWhen(observer, (list) => list.length >= 2);
      assert.equal(reasons.length, 2, JSON.stringify(reasons));
      assert.deepEqual(reasons.map((r) => r.split(" ")[0]).sort(), ["/", "/custom"], JSON.stringify(reasons));
      assert.deepEqual(await observer.ack("message-with-ack", 1), [1]);
    });

    it("close-me: the asking socket gets its DISCONNECT before the close (io server disconnect)", async (t) => {
      // test_server implements close-me as socket.disconnect(true), like Node's: a DISCONNECT
      // packet is written to the socket, then the connection closes; a packet written before
      // the close must still be delivered, on every transport.
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, { nsp: "/custom" }));
      c.emit("close-me");
      assert.deepEqual((await c.next("disconnect"))[0], "io server disconnect");
    });

    it("close-me: every namespace of the client gets a DISCONNECT, as with Node's disconnect(true)", async (t) => {
      const tr = tracker(t);
      const mgr = tr.mgr(manager(server.url, mode));
      const a = tr.add(socketOn(mgr, mode, "/"));
      const b = tr.add(socketOn(mgr, mode, "/custom"));
      await Promise.all([a.ready(), b.ready()]);
      b.emit("close-me");
      const [ra] = await a.next("disconnect");
      const [rb] = await b.next("disconnect");
      assert.deepEqual({ "/": ra, "/custom": rb }, { "/": "io server disconnect", "/custom": "io server disconnect" });
    });

    it("disconnect-reasons records '/ client namespace disconnect' for a client disconnect on a multiplexed namespace", async (t) => {
      const tr = tracker(t);
      const own = await ownServer(t);
      const mgr = tr.mgr(manager(own.url, mode));
      const a = tr.add(socketOn(mgr, mode, "/"));
      const b = tr.add(socketOn(mgr, mode, "/custom"));
      await Promise.all([a.ready(), b.ready()]);
      assert.deepEqual(await b.ack("disconnect-reasons"), [[]]);
      a.socket.disconnect();
      assert.equal((await a.next("disconnect"))[0], "io client disconnect");
      // Same engine connection, so the server handles the DISCONNECT before this event.
      assert.deepEqual(await b.ack("disconnect-reasons"), [["/ client namespace disconnect"]]);
      assert.equal(b.socket.connected, true);
    });

    it("disconnect-reasons records '/ transport close' after a client's engine closes", async (t) => {
      const tr = tracker(t);
      const own = await ownServer(t);
      const observer = tr.add(await connected(own.url, mode));
      const c = tr.add(await connected(own.url, mode));
      assert.deepEqual(await observer.ack("disconnect-reasons"), [[]]);
      c.socket.io.engine.close();
      // The reason on the client side is the client library's own ("forced close").
      assert.equal((await c.next("disconnect"))[0], "forced close");
      const reasons = await reasonsWhen(observer, (list) => list.length > 0);
      assert.deepEqual(reasons, ["/ transport close"]);
    });
  });
}
