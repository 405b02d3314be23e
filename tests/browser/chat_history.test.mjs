// What the chat page keeps across time, against each chat server: the history after a reload,
// older messages page by page, everything after a server restart on the same database, and the
// messages sent while the page's connection was down.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  SERVERS,
  chatFixtures,
  freshDatabase,
  startServer,
  waitInPage,
  waitForStatus,
  waitForLines,
  messageLines,
  sendMessage,
  say,
  joinRoom,
  flush,
  emitFromPage,
  storageOf,
  statusOf,
  assertNoPageErrors,
} from "./support.mjs";

/** Waits until the page's badge says anything but "online". */
function waitUntilNotOnline(page) {
  return waitInPage(page, () => document.getElementById("status").textContent !== "online", null,
    "the badge leaving \"online\"", () => statusOf(page));
}

/** Reloads the page and waits until it is back online, without having asked for a name. */
async function reloadLoggedIn(person) {
  await person.page.reload();
  await waitForStatus(person.page, "online");
  assert.equal(await person.page.isVisible("#name-form"), false, `${person.name}'s page did not ask for a name`);
  assert.equal(await person.page.textContent("#me-name"), person.name, `${person.name}'s name`);
}

/**
 * Points a person's page at `url` (a server that came back on another port). localStorage belongs
 * to an origin, so the identity is carried over by hand, as if the person had used that address.
 */
async function moveTo(person, url) {
  const stored = await storageOf(person.page);
  await person.page.goto(url + "/");
  await person.page.evaluate((entries) => {
    for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, value);
  }, stored);
  await reloadLoggedIn(person);
}

for (const server of SERVERS) {
  describe(`chat page history on the ${server.label}`, { skip: server.skip }, () => {
    const fx = chatFixtures(server);

    it("a reload shows the history and keeps the name", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob");
      await say(alice.page, "first");
      await say(bob.page, "second");
      await waitForLines(alice.page, ["alice: first", "bob: second"]);

      await reloadLoggedIn(alice);
      await waitForLines(alice.page, ["alice: first", "bob: second"]);
      const stored = JSON.parse((await storageOf(alice.page))["chat.identity"]);
      assert.equal(stored.name, "alice");
      assert.equal(typeof stored.token, "string");
      await say(alice.page, "third, after the reload");
      await waitForLines(bob.page, ["alice: first", "bob: second", "alice: third, after the reload"]);
      assertNoPageErrors([alice, bob]);
    });

    it("'Load older' fetches the history page by page", async (t) => {
      const { url } = await fx.server(t, { args: ["--limit-messages", "off"] }); // 60 messages at once
      const alice = await fx.person(t, url, "alice");
      for (let i = 1; i <= 60; i += 1) {
        const answer = await emitFromPage(alice.page, "message", { room: "general", text: `message ${i}` });
        assert.equal(answer.ok, true, `message ${i}: ${JSON.stringify(answer)}`);
      }
      const all = Array.from({ length: 60 }, (_, i) => `alice: message ${i + 1}`);

      const bob = await fx.person(t, url, "bob");
      await waitForLines(bob.page, all.slice(10));
      assert.equal(await bob.page.isVisible("#load-older"), true, "'Load older' is offered");
      await bob.page.click("#load-older");
      await waitForLines(bob.page, all);
      assert.equal(await bob.page.isVisible("#load-older"), false, "nothing older is left");
      assertNoPageErrors([alice, bob]);
    });

    it("a server restart on the same database keeps the history, the rooms' messages and the names", async (t) => {
      const { db, remove } = await freshDatabase();
      const started = [];
      t.after(async () => {
        try {
          for (const running of started) await running.stop();
        } finally {
          await remove();
        }
      });
      const first = await startServer(server, { db });
      started.push(first);
      const alice = await fx.person(t, first.url, "alice");
      const bob = await fx.person(t, first.url, "bob");
      await say(alice.page, "before the restart");
      await say(bob.page, "me too");
      await joinRoom(alice.page, "design");
      await say(alice.page, "design notes");
      await alice.page.click('#rooms li[data-room="general"] button');
      await waitForLines(alice.page, ["alice: before the restart", "bob: me too"]);

      await first.stop();
      await waitUntilNotOnline(alice.page);
      await waitUntilNotOnline(bob.page);

      // The same port if it is still free, so the pages can reconnect by themselves; any other
      // port otherwise, and the pages are pointed there.
      let second;
      try {
        second = await startServer(server, { db, port: first.port });
      } catch {
        second = await startServer(server, { db });
      }
      started.push(second);
      for (const person of [alice, bob]) {
        if (second.port === first.port) await waitForStatus(person.page, "online");
        else await moveTo(person, second.url);
      }

      await say(alice.page, "after the restart");
      await waitForLines(bob.page, ["alice: before the restart", "bob: me too", "alice: after the restart"]);
      await reloadLoggedIn(alice);
      await waitForLines(alice.page, ["alice: before the restart", "bob: me too", "alice: after the restart"]);
      await joinRoom(alice.page, "design");
      await waitForLines(alice.page, ["alice: design notes"]);
      assertNoPageErrors([alice, bob]);
    });

    it("after its connection drops the page reconnects by itself and fills in what it missed", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob");
      await say(alice.page, "still here?");
      await waitForLines(bob.page, ["alice: still here?"]);

      // Cut alice off: no network for her browser context, and her connection closed.
      await alice.context.setOffline(true);
      await alice.page.evaluate(() => socket.io.engine.close());
      await waitUntilNotOnline(alice.page);
      // bob's page saw alice go, so the server has dropped her connection.
      await waitInPage(bob.page,
        () => [...document.querySelectorAll("#messages li.notice")].some((li) => li.textContent === "alice left"),
        null, "the notice that alice left");
      await say(bob.page, "sent while you were away");
      await say(bob.page, "and another one");

      // Still cut off: what bob sent can only reach alice's page through the rejoin's `since`.
      assert.notEqual(await statusOf(alice.page), "online", "alice's page is still offline");
      assert.equal(await alice.page.evaluate(() => socket.connected), false, "alice's socket is down");
      const framesBefore = alice.sent.length;
      await alice.context.setOffline(false);
      await waitForStatus(alice.page, "online");
      const lines = ["alice: still here?", "bob: sent while you were away", "bob: and another one"];
      await waitForLines(alice.page, lines);
      await flush(alice.page);
      assert.deepEqual(await messageLines(alice.page), lines, "each message once, in order");
      // The page asked only for what came after the last message it had.
      const rejoin = alice.sent.slice(framesBefore).find((frame) => frame.includes('"join"'));
      assert.match(rejoin ?? "", /"join",\{"room":"general","since":\d+\}/, "the join after reconnecting");

      await sendMessage(alice.page, "back again");
      await waitForLines(bob.page, [...lines, "alice: back again"]);
      assertNoPageErrors([alice, bob]);
    });

    it("after missing more than a join can fill in, the page shows the latest messages and offers older ones", async (t) => {
      const { url } = await fx.server(t, { args: ["--limit-messages", "off"] }); // 101 messages at once
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob");
      await say(alice.page, "see you later");
      await waitForLines(bob.page, ["alice: see you later"]);

      await alice.context.setOffline(true);
      await alice.page.evaluate(() => socket.io.engine.close());
      await waitInPage(bob.page,
        () => [...document.querySelectorAll("#messages li.notice")].some((li) => li.textContent === "alice left"),
        null, "the notice that alice left");
      // One more than the 100 a join with `since` returns.
      for (let i = 1; i <= 101; i += 1) {
        const answer = await emitFromPage(bob.page, "message", { room: "general", text: `missed ${i}` });
        assert.equal(answer.ok, true, `message ${i}: ${JSON.stringify(answer)}`);
      }
      const missed = Array.from({ length: 101 }, (_, i) => `bob: missed ${i + 1}`);

      await alice.context.setOffline(false);
      await waitForStatus(alice.page, "online");
      await waitForLines(alice.page, missed.slice(1));
      assert.equal(await alice.page.isVisible("#load-older"), true, "'Load older' bridges the gap");
      await alice.page.click("#load-older");
      await waitForLines(alice.page, ["alice: see you later", ...missed]);
      assert.equal(await alice.page.isVisible("#load-older"), false, "nothing older is left");
      assertNoPageErrors([alice, bob]);
    });
  });
}
