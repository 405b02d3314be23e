// socket.io-client's msgpack browser bundle (socket.io.msgpack.min.js, as the test server serves
// it from /socket.io/) in Debian's Chromium, against test_server --parser msgpack: a page of the
// server's own origin loads the bundle, connects with io(), and nested maps and binary values
// make the round trip through an ack, an echo and a broadcast to another page, coming back as the
// browser client decodes them. The same page with the plain (JSON) bundle does not get connected.
// Needs CHAT_TEST_SERVER (build/tests/test_server).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { WAIT_MS, launchBrowser, withTimeout } from "./support.mjs";

const skip = process.env.CHAT_TEST_SERVER ? false : "CHAT_TEST_SERVER is not set (scripts/build test_server; point it at build/tests/test_server)";

/**
 * A page that loads one client bundle from the server, plus `describe(value)`, which turns what
 * the client decoded into plain JSON node can compare exactly: each binary as
 * { binary: <its constructor's name>, bytes: [...] }. The test drives the page with evaluate().
 */
const pageLoading = (bundle) => `<!doctype html>
<meta charset="utf-8"><title>${bundle}</title>
<script src="/socket.io/${bundle}"></script>
<script>
function describe(value) {
  if (value instanceof ArrayBuffer) return { binary: "ArrayBuffer", bytes: [...new Uint8Array(value)] };
  if (ArrayBuffer.isView(value)) {
    return { binary: value.constructor.name, bytes: [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)] };
  }
  if (Array.isArray(value)) return value.map(describe);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]));
  }
  return value;
}
</script>
`;

describe("the msgpack browser bundle against test_server --parser msgpack", { skip }, () => {
  let server;
  let browser;
  let staticDir;
  let context;
  before(async () => {
    const node = await import("../node/support.mjs");
    staticDir = await mkdtemp(path.join(tmpdir(), "chat-msgpack-page-"));
    await writeFile(path.join(staticDir, "msgpack.html"), pageLoading("socket.io.msgpack.min.js"));
    await writeFile(path.join(staticDir, "json.html"), pageLoading("socket.io.min.js"));
    server = await node.startServer(["--parser", "msgpack", "--client-dir", node.CLIENT_DIST, "--static", staticDir]);
    browser = await launchBrowser();
    context = await browser.newContext();
    context.setDefaultTimeout(WAIT_MS);
    context.setDefaultNavigationTimeout(WAIT_MS);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    if (staticDir) await rm(staticDir, { recursive: true, force: true });
  });

  /** Opens `file` of the static directory; resolves with the page and its uncaught errors. */
  async function open(file) {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    await page.goto(`${server.url}/${file}`, { waitUntil: "load" });
    assert.equal(await page.evaluate(() => typeof io), "function", `${file} did not load its bundle`);
    return { page, errors };
  }

  /**
   * In the page: connects a socket with io() (the page's origin) and keeps it as window.sock.
   * Resolves with "connected", "connect_error: <message>" or "closed: <reason>" (the Engine.IO
   * connection closed before the Socket.IO one opened), or "no outcome" after `ms`.
   */
  const connectInPage = (page, ms) =>
    page.evaluate((limit) => new Promise((resolve) => {
      const sock = io({ reconnection: false });
      window.sock = sock;
      const timer = setTimeout(() => resolve("no outcome"), limit);
      const settle = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      sock.once("connect", () => settle("connected"));
      sock.once("connect_error", (err) => settle(`connect_error: ${err.message}`));
      sock.io.once("close", (reason) => settle(`closed: ${reason}`));
    }), ms);

  it("an ack, an echo and a broadcast carry nested maps and binary values both ways", async () => {
    const sender = await open("msgpack.html");
    const listener = await open("msgpack.html");
    try {
      assert.equal(await connectInPage(sender.page, WAIT_MS), "connected");
      assert.equal(await connectInPage(listener.page, WAIT_MS), "connected");

      // What the page sends: nested maps with binaries inside (a non-empty one, a 3-byte one and
      // an empty one), and two of them again at the top level; it answers with what came back,
      // described. The bundle's encoder (notepack.io's) sends an ArrayBuffer as a msgpack bin; a
      // typed array is not one to it (see the last test), so the bytes go as ArrayBuffers.
      const roundTrip = (page, how) =>
        page.evaluate(async ({ how, limit }) => {
          const bytes = new Uint8Array([0, 1, 2, 127, 128, 253, 254, 255]).buffer;
          const ab = new Uint8Array([9, 8, 7]).buffer;
          const payload = {
            user: { name: "Zoë", tags: ["a", "b"], profile: { age: 42, ratio: 0.5, active: true, none: null } },
            files: { avatar: bytes, deep: { raw: ab, empty: new ArrayBuffer(0) } },
            list: [1, -2, 3.25, "x", [[[]]], {}],
            big: 2 ** 40,
          };
          const within = (promise, what) => Promise.race([
            promise,
            new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${limit} ms`)), limit)),
          ]);
          if (how === "ack") {
            const args = await within(new Promise((resolve) =>
              window.sock.emit("message-with-ack", "hello", payload, bytes, ab, (...back) => resolve(back))), "ack");
            return describe(args);
          }
          if (how === "echo") {
            const args = await within(new Promise((resolve) => {
              window.sock.once("message-back", (...back) => resolve(back));
              window.sock.emit("message", "hello", payload, bytes, ab);
            }), "message-back");
            return describe(args);
          }
          // "broadcast": every socket of the namespace, sender included, gets it; the server acks.
          const ackArgs = await within(new Promise((resolve) =>
            window.sock.emit("broadcast-all", payload, (...back) => resolve(back))), "broadcast ack");
          return describe(ackArgs);
        }, { how, limit: WAIT_MS });

      const bin = (type, bytes) => ({ binary: type, bytes });
      // The bundle decodes every msgpack bin to an ArrayBuffer.
      const decoded = {
        user: { name: "Zoë", tags: ["a", "b"], profile: { age: 42, ratio: 0.5, active: true, none: null } },
        files: {
          avatar: bin("ArrayBuffer", [0, 1, 2, 127, 128, 253, 254, 255]),
          deep: { raw: bin("ArrayBuffer", [9, 8, 7]), empty: bin("ArrayBuffer", []) },
        },
        list: [1, -2, 3.25, "x", [[[]]], {}],
        big: 2 ** 40,
      };
      const expected = ["hello", decoded, bin("ArrayBuffer", [0, 1, 2, 127, 128, 253, 254, 255]), bin("ArrayBuffer", [9, 8, 7])];

      assert.deepEqual(await roundTrip(sender.page, "ack"), expected);
      assert.deepEqual(await roundTrip(sender.page, "echo"), expected);

      // The broadcast reaches both pages: each one's handler is in place (its evaluate has
      // returned) before the sender emits; what a page hears is kept as window.heard, a promise.
      for (const { page } of [sender, listener]) {
        await page.evaluate((limit) => {
          window.heard = new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no broadcast within ${limit} ms`)), limit);
            window.sock.once("broadcast", (...args) => {
              clearTimeout(timer);
              resolve(describe(args));
            });
          });
        }, WAIT_MS);
      }
      assert.deepEqual(await roundTrip(sender.page, "broadcast"), []);
      assert.deepEqual(await listener.page.evaluate(() => window.heard), [decoded]);
      assert.deepEqual(await sender.page.evaluate(() => window.heard), [decoded]);

      assert.deepEqual(sender.errors, []);
      assert.deepEqual(listener.errors, []);
    } finally {
      await sender.page.close();
      await listener.page.close();
    }
  });

  it("the plain (JSON) bundle does not get connected to the msgpack server", async () => {
    const { page, errors } = await open("json.html");
    try {
      const outcome = await withTimeout(connectInPage(page, WAIT_MS), WAIT_MS * 2, "the JSON page's outcome");
      // The server closes the session on the client's first (text) packet, so the client's
      // next poll fails: its connection attempt ends in an error, not in a connection.
      assert.match(outcome, /^connect_error: /);
      assert.equal(await page.evaluate(() => window.sock.connected), false);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it("a typed array sent by the bundle travels as a map of its indices, as README says", async () => {
    const { page, errors } = await open("msgpack.html");
    try {
      assert.equal(await connectInPage(page, WAIT_MS), "connected");
      const back = await page.evaluate((limit) => Promise.race([
        new Promise((resolve) => window.sock.emit("message-with-ack", new Uint8Array([5, 6]), (...args) => resolve(describe(args)))),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no ack within ${limit} ms`)), limit)),
      ]), WAIT_MS);
      assert.deepEqual(back, [{ 0: 5, 1: 6 }]);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
