// The official Socket.IO Admin UI (the built page of the npm package @socket.io/admin-ui) in
// Debian's Chromium, served by the test server itself (--static), logging in to that server's
// admin namespace: it lists the server, the sockets of real clients and their rooms, and its
// "disconnect" button disconnects one. Needs CHAT_TEST_SERVER (build/tests/test_server).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import { REPO_ROOT, WAIT_MS, launchBrowser, waitInPage } from "./support.mjs";

const require = createRequire(path.join(REPO_ROOT, "package.json"));
const bcrypt = require("bcryptjs"); // the admin UI package's own dependency
const UI_DIR = path.join(REPO_ROOT, "node_modules", "@socket.io", "admin-ui", "ui", "dist");
const skip = process.env.CHAT_TEST_SERVER ? false : "CHAT_TEST_SERVER is not set (scripts/build test_server; point it at build/tests/test_server)";

describe("the Admin UI page", { skip }, () => {
  let server;
  let browser;
  let node;
  before(async () => {
    node = await import("../node/support.mjs");
    const hash = bcrypt.hashSync("ui-pass", 4);
    server = await node.startServer(["--admin-auth", `admin:${hash}`, "--static", UI_DIR, "--admin-server-id", "chat-under-test"]);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The page's visible text. */
  const textOf = (page) => page.evaluate(() => document.body.innerText);
  const waitForText = (page, text, what) =>
    waitInPage(page, (want) => document.body.innerText.includes(want), text, what, () => textOf(page).then((t) => t.slice(0, 1500)));

  it("logs in, lists the server, the clients' sockets and rooms, and disconnects a socket", async () => {
    const mode = node.MODES[1];
    const alice = await node.connected(server.url, mode, { query: { who: "alice" } });
    const bob = await node.connected(server.url, mode);
    const room = node.uniqueName("ui-room");
    await alice.ack("join", room);
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(WAIT_MS);
      // The page links fonts and icons from CDNs; nothing here reaches the network.
      await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (err) => errors.push(err.message));
      await page.goto(server.url + "/");

      await page.getByLabel("Server URL").fill(server.url);
      await page.getByLabel("Username").fill("admin");
      await page.getByLabel("Password").fill("ui-pass");
      await page.getByRole("button", { name: "Connect" }).click();

      await page.evaluate(() => (location.hash = "#/servers/"));
      await waitForText(page, "chat-under-test", "the server listed under its id");

      await page.evaluate(() => (location.hash = "#/sockets/"));
      await waitForText(page, alice.id, "alice's socket listed");
      await waitForText(page, bob.id, "bob's socket listed");

      await page.evaluate(() => (location.hash = "#/rooms/"));
      await waitForText(page, room, "alice's room listed");

      // The socket's own page, then the disconnect button of its "Socket" part (the last of
      // the page's two: the first disconnects the whole client): the client learns it from the server.
      await page.evaluate((id) => (location.hash = `#/n/%2F/sockets/${id}`), bob.id);
      await waitForText(page, "Socket details", "bob's socket page");
      await page.locator("button:has(.mdi-logout)").last().click();
      const [reason] = await bob.next("disconnect", WAIT_MS);
      assert.equal(reason, "io server disconnect");
      assert.equal(alice.socket.connected, true);
      assert.deepEqual(errors, []);
      await page.evaluate(() => (location.hash = "#/sockets/"));
      await waitForText(page, alice.id, "the sockets page again");
      await page.screenshot({ path: path.join(REPO_ROOT, "docs", "screenshot-admin-ui.png") });
      await context.close();
    } finally {
      alice.close();
      bob.close();
    }
  });
});
