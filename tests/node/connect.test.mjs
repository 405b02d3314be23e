// Connecting: the `auth` echo, socket ids, namespaces (/custom, /private, unknown) and
// multiplexing several namespaces over one Manager / Engine.IO connection.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, startServer, connect, connected, manager, socketOn, tracker } from "./support.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

for (const mode of MODES) {
  describe(`connect [${mode.name}]`, () => {
    it("connects to / and the auth event echoes an empty auth as {}", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      assert.equal(c.socket.connected, true);
      assert.equal(c.socket.nsp, "/");
      assert.deepEqual(await c.next("auth"), [{}]);
    });

    it("the auth event echoes a custom auth object", async (t) => {
      const tr = tracker(t);
      const auth = { token: "abc", n: 42, nested: { list: [1, "two", null, true] }, text: "héllo 🎉" };
      const c = tr.add(await connected(server.url, mode, { auth }));
      assert.deepEqual(await c.next("auth"), [auth]);
    });

    it("socket ids are distinct and are not the Engine.IO id", async (t) => {
      const tr = tracker(t);
      const a = tr.add(await connected(server.url, mode));
      const b = tr.add(await connected(server.url, mode));
      assert.equal(typeof a.id, "string");
      assert.equal(typeof b.id, "string");
      assert.ok(a.id.length > 0);
      assert.notEqual(a.id, b.id);
      assert.equal(typeof a.socket.io.engine.id, "string");
      assert.notEqual(a.id, a.socket.io.engine.id);
      assert.notEqual(b.id, b.socket.io.engine.id);
      assert.notEqual(a.socket.io.engine.id, b.socket.io.engine.id);
    });

    it("/custom connects with auth and echoes it", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, { nsp: "/custom", auth: { token: "abc" } }));
      assert.equal(c.socket.nsp, "/custom");
      assert.deepEqual(await c.next("auth"), [{ token: "abc" }]);
      c.emit("message", 1, "2", { 3: [true] });
      assert.deepEqual(await c.next("message-back"), [1, "2", { 3: [true] }]);
    });

    it("/private accepts {token:'secret'}", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, { nsp: "/private", auth: { token: "secret" } }));
      assert.deepEqual(await c.next("auth"), [{ token: "secret" }]);
      assert.deepEqual(await c.ack("message-with-ack", "ok", 1), ["ok", 1]);
    });

    it("/private rejects a wrong token with Not authorized / {reason:'bad token'}", async (t) => {
      const tr = tracker(t);
      const c = tr.add(connect(server.url, mode, { nsp: "/private", auth: { token: "wrong" } }));
      const err = await c.connectError();
      assert.equal(err.message, "Not authorized");
      assert.deepEqual(err.data, { reason: "bad token" });
      assert.equal(c.socket.connected, false);
      assert.deepEqual(c.all("connect"), []);
      assert.deepEqual(c.all("auth"), []);
    });

    it("/private rejects a missing auth", async (t) => {
      const tr = tracker(t);
      const c = tr.add(connect(server.url, mode, { nsp: "/private" }));
      const err = await c.connectError();
      assert.equal(err.message, "Not authorized");
      assert.deepEqual(err.data, { reason: "bad token" });
      assert.equal(c.socket.connected, false);
    });

    it("an unknown namespace gets connect_error Invalid namespace", async (t) => {
      const tr = tracker(t);
      const c = tr.add(connect(server.url, mode, { nsp: "/random" }));
      const err = await c.connectError();
      assert.equal(err.message, "Invalid namespace");
      assert.equal(err.data, undefined);
      assert.equal(c.socket.connected, false);
      assert.deepEqual(c.all("connect"), []);
    });

    it("multiplexes / and /custom over one Manager", async (t) => {
      const tr = tracker(t);
      const mgr = tr.mgr(manager(server.url, mode));
      const a = tr.add(socketOn(mgr, mode, "/"));
      const b = tr.add(socketOn(mgr, mode, "/custom", { k: "v" }));
      await Promise.all([a.ready(), b.ready()]);
      assert.equal(a.socket.io, b.socket.io);
      assert.equal(a.socket.io.engine, b.socket.io.engine);
      assert.notEqual(a.id, b.id);
      assert.notEqual(a.id, mgr.engine.id);
      assert.notEqual(b.id, mgr.engine.id);
      assert.deepEqual(await a.next("auth"), [{}]);
      assert.deepEqual(await b.next("auth"), [{ k: "v" }]);

      // Each namespace answers on its own socket only.
      a.emit("message", "on-root");
      b.emit("message", "on-custom");
      assert.deepEqual(await a.next("message-back"), ["on-root"]);
      assert.deepEqual(await b.next("message-back"), ["on-custom"]);
      await Promise.all([a.fence(), b.fence()]);
      assert.deepEqual(a.all("message-back"), [["on-root"]]);
      assert.deepEqual(b.all("message-back"), [["on-custom"]]);

      // Disconnecting /custom keeps / (and the engine) working.
      const engine = mgr.engine;
      b.socket.disconnect();
      assert.equal((await b.next("disconnect"))[0], "io client disconnect");
      assert.deepEqual(await a.ack("message-with-ack", "still", "here"), ["still", "here"]);
      a.emit("message", { after: true });
      assert.deepEqual(await a.next("message-back"), [{ after: true }]);
      assert.equal(a.socket.connected, true);
      assert.equal(mgr.engine, engine);
      assert.equal(engine.readyState, "open");
      assert.deepEqual(a.all("disconnect"), []);

      // /custom can connect again over the same engine.
      b.socket.connect();
      await b.ready();
      assert.deepEqual(await b.next("auth"), [{ k: "v" }]);
      assert.equal(mgr.engine, engine);
      assert.deepEqual(await b.ack("message-with-ack", "again"), ["again"]);
    });

    it("a rejected namespace on a multiplexed Manager leaves the others working", async (t) => {
      const tr = tracker(t);
      const mgr = tr.mgr(manager(server.url, mode));
      const a = tr.add(socketOn(mgr, mode, "/"));
      await a.ready();
      const bad = tr.add(socketOn(mgr, mode, "/private", { token: "nope" }));
      const unknown = tr.add(socketOn(mgr, mode, "/nowhere"));
      const [e1, e2] = await Promise.all([bad.connectError(), unknown.connectError()]);
      assert.equal(e1.message, "Not authorized");
      assert.deepEqual(e1.data, { reason: "bad token" });
      assert.equal(e2.message, "Invalid namespace");
      assert.deepEqual(await a.ack("message-with-ack", 7), [7]);
      assert.equal(a.socket.connected, true);
      assert.equal(mgr.engine.readyState, "open");
    });
  });
}
