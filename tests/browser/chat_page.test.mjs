// The chat page (examples/chat_server/static) in a real Chromium against the C++ chat_server:
// two people chatting, HTML in a message shown as text, the Socket.IO bundle and the WebSocket
// upgrade, and a screenshot for the docs.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import {
  REPO_ROOT,
  WAIT_MS,
  startChatServer,
  launchBrowser,
  openChatPage,
  messageTexts,
  waitForMessage,
  sendMessage,
  flush,
} from "./support.mjs";

const SCREENSHOT = path.join(REPO_ROOT, "docs", "screenshot-chat.png");

let server;
let browser;
before(async () => {
  server = await startChatServer();
  browser = await launchBrowser();
});
after(async () => {
  try {
    await browser?.close();
  } finally {
    await server?.stop();
  }
});

/** Opens the page for each named person; every context is closed when the test ends. */
async function people(t, ...names) {
  const opened = [];
  t.after(() => Promise.all(opened.map((p) => p.context.close())));
  for (const name of names) {
    const person = await openChatPage(browser, server.url);
    person.name = name;
    opened.push(person);
  }
  return opened;
}

/** Both pages hold exactly `expected`, once `flush` proved nothing more was on its way. */
async function assertBothShowExactly(pages, expected) {
  for (const p of pages) {
    for (const text of expected) await waitForMessage(p.page, text);
    await flush(p.page);
    assert.deepEqual(await messageTexts(p.page), expected, `messages in ${p.name}'s page`);
  }
}

function assertNoPageErrors(pages) {
  for (const p of pages) assert.deepEqual(p.errors, [], `uncaught errors in ${p.name}'s page`);
}

/** A says hello, B replies; checks both pages after each message. */
async function exchange(a, b) {
  for (const p of [a, b]) {
    assert.equal(await p.page.textContent("#status"), "online", `${p.name}'s status`);
    assert.deepEqual(await messageTexts(p.page), [], `${p.name}'s page starts empty`);
  }
  await sendMessage(a.page, "hello from A");
  await assertBothShowExactly([a, b], ["hello from A"]);
  assert.equal(await a.page.inputValue("#text"), "", "the composer is cleared after sending");

  await sendMessage(b.page, "hi A, B here");
  await assertBothShowExactly([a, b], ["hello from A", "hi A, B here"]);
}

describe("chat page in Chromium", () => {
  it("two people: each message shows up once, in order, in both pages", async (t) => {
    const [a, b] = await people(t, "A", "B");
    await exchange(a, b);
    for (const p of [a, b]) {
      assert.equal(await p.page.$eval("#status", (el) => el.className), "status online", `${p.name}'s badge class`);
    }
    assertNoPageErrors([a, b]);
  });

  it("HTML in a message is shown as literal text, never run or rendered", async (t) => {
    const [a, b] = await people(t, "A", "B");
    const hostile = "<script>window.__pwned=1</script><b>bold</b>";
    await sendMessage(a.page, hostile);
    await assertBothShowExactly([a, b], [hostile]);
    for (const p of [a, b]) {
      const seen = await p.page.evaluate(() => {
        const item = document.querySelector("#messages li");
        return {
          text: item.textContent,
          children: item.children.length,
          bold: document.querySelectorAll("#messages b").length,
          scripts: document.querySelectorAll("#messages script").length,
          pwned: typeof window.__pwned,
        };
      });
      assert.deepEqual(
        seen,
        { text: hostile, children: 0, bold: 0, scripts: 0, pwned: "undefined" },
        `${p.name}'s page`,
      );
    }
    assertNoPageErrors([a, b]);
  });

  it("loads the Socket.IO bundle from the server and ends up on a WebSocket", async (t) => {
    const [a] = await people(t, "A");
    const { page } = a;

    const bundle = a.responses.find((r) => new URL(r.url()).pathname === "/socket.io/socket.io.js");
    assert.ok(bundle, `the page requested /socket.io/socket.io.js; responses: ${a.responses.map((r) => r.url()).join(", ")}`);
    assert.equal(bundle.status(), 200, "status of /socket.io/socket.io.js");
    assert.match(bundle.headers()["content-type"] ?? "", /javascript/, "content type of the bundle");
    assert.equal(await page.evaluate(() => typeof io), "function", "typeof io in the page");

    // chat.js keeps its socket in a top-level const, which scripts evaluated in the page can see.
    await page.waitForFunction(() => socket.io.engine.transport.name === "websocket", null, { timeout: WAIT_MS })
      .catch(async (err) => {
        const now = await page.evaluate(() => socket.io.engine?.transport?.name).catch(() => "?");
        throw new Error(`transport is still ${JSON.stringify(now)} after ${WAIT_MS} ms: ${err.message}`);
      });
    assert.equal(await page.evaluate(() => socket.connected), true, "socket.connected");

    // The browser itself saw the upgrade: an open Engine.IO WebSocket to this server carrying
    // the message we send now and its broadcast back.
    const engineSockets = a.websockets.filter((ws) => {
      const u = new URL(ws.url());
      return u.host === new URL(server.url).host && u.pathname === "/socket.io/" &&
        u.searchParams.get("EIO") === "4" && u.searchParams.get("transport") === "websocket";
    });
    assert.equal(engineSockets.length, 1, `Engine.IO WebSockets opened: ${a.websockets.map((ws) => ws.url()).join(", ")}`);
    const [ws] = engineSockets;
    assert.equal(ws.isClosed(), false, "the WebSocket is still open");
    assert.ok(new URL(ws.url()).searchParams.get("sid"), "the WebSocket upgrades an existing session (sid)");

    const packet = '42["message","over the websocket"]';
    const sent = ws.waitForEvent("framesent", { predicate: (f) => f.payload === packet, timeout: WAIT_MS });
    const received = ws.waitForEvent("framereceived", { predicate: (f) => f.payload === packet, timeout: WAIT_MS });
    await sendMessage(page, "over the websocket");
    await Promise.all([sent, received]);
    await waitForMessage(page, "over the websocket");
    assertNoPageErrors([a]);
  });

  it("screenshot of A's page after the exchange (docs/screenshot-chat.png)", async (t) => {
    const [a, b] = await people(t, "A", "B");
    await exchange(a, b);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await a.page.locator("#text").blur();
    const png = await a.page.screenshot({ path: SCREENSHOT, timeout: WAIT_MS });
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
    assertNoPageErrors([a, b]);
  });
});
