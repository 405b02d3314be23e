// The chat page (examples/chat_page) in a real Chromium, against each chat server: people
// chatting, typing notices, private conversations, names, HTML shown as text, errors from the
// server, and a phone-sized screen. Every test starts its server on a fresh database.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  SERVERS,
  PHONE,
  chatFixtures,
  waitInPage,
  waitForStatus,
  waitForMessage,
  waitForLines,
  waitForText,
  messageLines,
  shownMessages,
  onlineNames,
  sendMessage,
  say,
  openRoomInList,
  joinRoom,
  flush,
  emitFromPage,
  storageOf,
  assertNoPageErrors,
  startRedis,
} from "./support.mjs";

/** Waits until the page's "here now" list holds exactly `names` (in the page's order: by name). */
function waitForOnline(page, names) {
  return waitInPage(page,
    (want) => JSON.stringify([...document.querySelectorAll("#online li")].map((li) => li.textContent)) === JSON.stringify(want),
    names, `online list ${JSON.stringify(names)}`, () => onlineNames(page));
}

function waitForNotice(page, text) {
  return waitInPage(page,
    (want) => [...document.querySelectorAll("#messages li.notice")].some((li) => li.textContent === want),
    text, `notice ${JSON.stringify(text)}`,
    () => page.$$eval("#messages li.notice", (items) => items.map((li) => li.textContent)));
}

for (const server of SERVERS) {
  describe(`chat page on the ${server.label}`, { skip: server.skip }, () => {
    const fx = chatFixtures(server);

    it("two people exchange messages in real time, each shown once with its author", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob");

      for (const p of [alice, bob]) {
        await waitForOnline(p.page, ["alice", "bob"]);
        assert.equal(await p.page.$eval("#status", (el) => el.className), "status online", `${p.name}'s badge`);
        assert.equal(await p.page.$eval("#rooms li.active", (li) => li.dataset.room), "general", `${p.name}'s room`);
        assert.equal(await p.page.textContent("#room-title"), "#general");
        assert.equal(await p.page.isVisible("#name-form"), false, `${p.name}'s name form is gone`);
      }
      await waitForNotice(alice.page, "bob joined");

      await sendMessage(alice.page, "hello bob");
      await waitForLines(bob.page, ["alice: hello bob"]);
      await waitForLines(alice.page, ["alice: hello bob"]);
      // The line may come with the room's broadcast, a moment before the ack that clears the
      // composer: wait for the ack's effect (bounded), rather than race it.
      await alice.page.waitForFunction(() => document.querySelector("#text").value === "", null, { timeout: 10000 })
        .catch(() => {});
      assert.equal(await alice.page.inputValue("#text"), "", "the composer is cleared after sending");

      await sendMessage(bob.page, "hi alice!");
      for (const p of [alice, bob]) {
        await waitForLines(p.page, ["alice: hello bob", "bob: hi alice!"]);
        await flush(p.page);
        assert.deepEqual(await messageLines(p.page), ["alice: hello bob", "bob: hi alice!"], `${p.name}'s messages`);
        const [first, second] = await shownMessages(p.page);
        assert.ok(second.id > first.id, "message ids grow");
        assert.match(await p.page.textContent("#messages li.message .time"), /\d/, "a time is shown");
      }

      // The page's connection ended up on a WebSocket, not long-polling.
      await waitInPage(alice.page, () => socket.io.engine.transport.name === "websocket", null,
        "the WebSocket upgrade", () => alice.page.evaluate(() => socket.io.engine.transport.name));
      assertNoPageErrors([alice, bob]);
    });

    it("two people on two processes of one app (--redis) chat, see each other online and typing", async (t) => {
      const redis = await startRedis();
      t.after(() => redis.stop());
      const first = await fx.server(t, { args: ["--redis", redis.url] });
      const second = await fx.server(t, { db: first.db, args: ["--redis", redis.url] });
      const alice = await fx.person(t, first.url, "alice");
      const bob = await fx.person(t, second.url, "bob");
      for (const p of [alice, bob]) await waitForOnline(p.page, ["alice", "bob"]);

      await alice.page.locator("#text").pressSequentially("hel");
      await waitForText(bob.page, "#typing", "alice is typing…");
      await alice.page.locator("#text").pressSequentially("lo");
      await alice.page.click("#composer button[type=submit]");
      await waitForLines(bob.page, ["alice: hello"]);
      await waitForText(bob.page, "#typing", "");
      await sendMessage(bob.page, "hi from the other process");
      await waitForLines(alice.page, ["alice: hello", "bob: hi from the other process"]);

      await bob.context.close();
      await waitForOnline(alice.page, ["alice"]);
      await waitForNotice(alice.page, "bob left");
      assertNoPageErrors([alice, bob]);
    });

    it("the typing notice shows in the other pages and clears on send and when the text is cleared", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob");
      const carol = await fx.person(t, url, "carol");
      await waitForOnline(bob.page, ["alice", "bob", "carol"]);

      await alice.page.locator("#text").pressSequentially("hel");
      await waitForText(bob.page, "#typing", "alice is typing…");
      await waitForText(carol.page, "#typing", "alice is typing…");
      assert.equal(await alice.page.textContent("#typing"), "", "nobody is typing in alice's own page");

      // Sending withdraws the notice.
      await alice.page.locator("#text").pressSequentially("lo");
      await alice.page.click("#composer button[type=submit]");
      await waitForMessage(bob.page, "hello");
      await waitForText(bob.page, "#typing", "");

      // Two people typing at once, then each clearing the text.
      await alice.page.locator("#text").pressSequentially("one more");
      await carol.page.locator("#text").pressSequentially("me too");
      await waitInPage(bob.page,
        () => ["alice and carol are typing…", "carol and alice are typing…"].includes(document.getElementById("typing").textContent),
        null, "two typing", () => bob.page.textContent("#typing"));
      await alice.page.fill("#text", "");
      await waitForText(bob.page, "#typing", "carol is typing…");
      await carol.page.fill("#text", "");
      await waitForText(bob.page, "#typing", "");
      assertNoPageErrors([alice, bob, carol]);
    });

    it("a typing notice never withdrawn disappears after 5 seconds, and at once with the typist's message", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      // bob's page runs on Playwright's clock, so the test can move its time on instead of waiting.
      const bob = await fx.person(t, url, "bob", { beforeLoad: (page) => page.clock.install() });
      await waitForOnline(alice.page, ["alice", "bob"]);

      // typing:true straight from alice's connection, with no typing:false ever following.
      assert.deepEqual(await emitFromPage(alice.page, "typing", { room: "general", typing: true }), { ok: true });
      await waitForText(bob.page, "#typing", "alice is typing…");
      await bob.page.clock.fastForward(5000);
      await waitForText(bob.page, "#typing", "");

      assert.deepEqual(await emitFromPage(alice.page, "typing", { room: "general", typing: true }), { ok: true });
      await waitForText(bob.page, "#typing", "alice is typing…");
      await say(alice.page, "done typing");
      await waitForMessage(bob.page, "done typing");
      assert.equal(await bob.page.textContent("#typing"), "", "the typist's message ends the notice");
      assertNoPageErrors([alice, bob]);
    });

    it("a private conversation reaches its two members and nobody else", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob");
      const carol = await fx.person(t, url, "carol");
      // Everything carol's connection receives from now on.
      await carol.page.evaluate(() => {
        window.received = [];
        socket.onAny((event, ...args) => window.received.push(JSON.stringify([event, ...args])));
      });
      await waitForOnline(alice.page, ["alice", "bob", "carol"]);

      // alice clicks bob in the "here now" list.
      await alice.page.click('#online li button:text-is("bob")');
      await waitInPage(alice.page, () => document.querySelector("#rooms li.active")?.dataset.room.startsWith("dm:"), null,
        "the private conversation shown", () => alice.page.evaluate(() => document.querySelector("#rooms li.active")?.dataset.room));
      const dm = await alice.page.$eval("#rooms li.active", (li) => li.dataset.room);
      assert.match(dm, /^dm:\d+:\d+$/);
      assert.equal(await alice.page.textContent("#room-title"), "bob");
      assert.equal(await alice.page.textContent(`#private-rooms li[data-room="${dm}"] .room-name`), "bob");
      await say(alice.page, "psst, bob: a secret");

      // bob's list shows the conversation under alice's name, with one unread message.
      await waitForText(bob.page, `#private-rooms li[data-room="${dm}"] .room-name`, "alice");
      await waitForText(bob.page, `#private-rooms li[data-room="${dm}"] .unread`, "1");
      await openRoomInList(bob.page, dm);
      await waitForLines(bob.page, ["alice: psst, bob: a secret"]);
      assert.equal(await bob.page.isVisible(`#private-rooms li[data-room="${dm}"] .unread`), false, "read now");
      await say(bob.page, "got it");
      await waitForLines(alice.page, ["alice: psst, bob: a secret", "bob: got it"]);

      // carol saw none of it, and the server refuses her the room.
      await flush(carol.page);
      assert.deepEqual(await carol.page.$$eval("#private-rooms li", (items) => items.length), 0, "carol's conversations");
      const seen = await carol.page.evaluate(() => window.received);
      assert.deepEqual(seen.filter((e) => e.includes(dm) || e.includes("secret") || e.includes("got it")), [],
        "events carol received");
      assert.equal(await carol.page.evaluate(() => document.body.textContent.includes("secret")), false);
      assert.deepEqual(await emitFromPage(carol.page, "join", { room: dm }).then((a) => [a.ok, a.error]), [false, "forbidden"]);
      assert.deepEqual(await emitFromPage(carol.page, "history", { room: dm, before: 1e9 }).then((a) => [a.ok, a.error]),
        [false, "forbidden"]);
      assertNoPageErrors([alice, bob, carol]);
    });

    it("HTML in messages and names is shown as literal text, never run or rendered", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "<i>bob</i>");
      const hostile = "<script>window.__pwned=1</script><b>x</b><img src=x onerror=\"window.__pwned=2\">";
      await sendMessage(alice.page, hostile);
      await say(bob.page, "<u>hi</u>");
      for (const p of [alice, bob]) {
        await waitForLines(p.page, [`alice: ${hostile}`, "<i>bob</i>: <u>hi</u>"]);
        await waitForOnline(p.page, ["<i>bob</i>", "alice"]);
      }

      // A name that is markup (a fair name: 29 characters, nothing invisible) wherever names show.
      const evil = "<img src=x onerror=__pwned=3>";
      const worse = "<svg onload=__pwned=4>";
      const mallory = await fx.person(t, url, evil);
      await waitForNotice(alice.page, `${evil} joined`);
      await waitForOnline(alice.page, ["<i>bob</i>", evil, "alice"]); // the page orders by localeCompare
      await mallory.page.locator("#text").pressSequentially("typing");
      await waitForText(alice.page, "#typing", `${evil} is typing…`);
      await say(mallory.page, "a message");
      await waitForLines(alice.page, [`alice: ${hostile}`, "<i>bob</i>: <u>hi</u>", `${evil}: a message`]);
      // alice starts a conversation with the name in the online list: it is the room's name and title
      await alice.page.locator("#online li button").filter({ hasText: evil }).click();
      await waitInPage(alice.page, () => document.querySelector("#rooms li.active")?.dataset.room.startsWith("dm:"), null,
        "the private conversation shown");
      const dm = await alice.page.$eval("#rooms li.active", (li) => li.dataset.room);
      assert.equal(await alice.page.textContent("#room-title"), evil);
      assert.equal(await alice.page.textContent(`#private-rooms li[data-room="${dm}"] .room-name`), evil);
      await waitForText(mallory.page, `#private-rooms li[data-room="${dm}"] .room-name`, "alice");
      await openRoomInList(alice.page, "general");
      // a rename, and leaving
      await mallory.page.click("#rename");
      await mallory.page.fill("#name", worse);
      await mallory.page.click("#name-form button[type=submit]");
      await waitForText(mallory.page, "#me-name", worse);
      await waitForNotice(alice.page, `${evil} is now ${worse}`);
      await waitForText(alice.page, `#private-rooms li[data-room="${dm}"] .room-name`, worse);
      await mallory.context.close();
      await waitForNotice(alice.page, `${worse} left`);

      for (const p of [alice, bob]) {
        await flush(p.page);
        const seen = await p.page.evaluate(() => ({
          markup: document.querySelectorAll("script:not([src]), body b, body img, body i, body u, body svg").length,
          pwned: typeof window.__pwned,
        }));
        assert.deepEqual(seen, { markup: 0, pwned: "undefined" }, `${p.name}'s page`);
      }
      // Each name sits in an element of its own that isolates its direction.
      const isolation = await alice.page.evaluate(() =>
        [...document.querySelectorAll("#messages .author, #messages li.notice bdi, #online .name, #rooms .room-name")]
          .map((el) => getComputedStyle(el).unicodeBidi));
      assert.ok(isolation.length >= 8 && isolation.every((value) => value === "isolate"), JSON.stringify(isolation));
      assertNoPageErrors([alice, bob]);
    });

    it("a right-to-left name does not reorder the text around it", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const rtl = "\u05e9\u05dc\u05d5\u05dd 42";  // Hebrew, then digits: unisolated, "42 joined" would move
      await fx.person(t, url, rtl);
      await waitForNotice(alice.page, `${rtl} joined`);
      // The name is a <bdi> of its own in the notice; an isolated element of its own in the online list.
      const parts = await alice.page.$$eval("#messages li.notice", (items) =>
        items.map((li) => [...li.childNodes].map((node) => [node.nodeName, node.textContent])));
      assert.deepEqual(parts.at(-1), [["BDI", rtl], ["#text", " joined"]]);
      const online = await alice.page.$$eval("#online .name", (items) =>
        items.map((el) => [el.textContent, getComputedStyle(el).unicodeBidi]));
      assert.deepEqual(online.sort(), [[rtl, "isolate"], ["alice", "isolate"]].sort());
      assertNoPageErrors([alice]);
    });

    it("a login the server cannot serve now keeps the name and is tried again", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, undefined);
      // The server's store fails the first two logins (as a full disk would): the page must keep
      // the name, say so, and try again by itself.
      await alice.page.evaluate(() => {
        const real = window.request;
        window.loginAttempts = 0;
        window.request = async (event, data) => {
          if (event === "login" && ++window.loginAttempts <= 2) {
            return { ok: false, error: "unavailable", message: "The server cannot store anything right now." };
          }
          return real(event, data);
        };
      });
      await alice.page.fill("#name", "alice");
      await alice.page.click("#name-form button[type=submit]");
      await waitInPage(alice.page, () => document.getElementById("status").textContent.startsWith("retrying"), null,
        "the retrying status", () => alice.page.textContent("#status"));
      await waitInPage(alice.page, () => document.getElementById("name-error").textContent.includes("cannot store"), null,
        "the reason shown", () => alice.page.textContent("#name-error"));
      await waitForStatus(alice.page, "online");
      assert.equal(await alice.page.evaluate(() => window.loginAttempts), 3);
      assert.equal(await alice.page.textContent("#me-name"), "alice");
      assert.equal(await alice.page.isVisible("#name-form"), false, "the name form is gone");
      const stored = JSON.parse((await storageOf(alice.page))["chat.identity"]);
      assert.equal(stored.name, "alice");

      // Again on a reconnection with the stored identity: it is kept, and the same user comes back.
      const me = await alice.page.evaluate(() => state.me);
      await alice.page.evaluate(() => {
        window.loginAttempts = 0;
        socket.io.engine.close();
      });
      await waitInPage(alice.page, () => document.getElementById("status").textContent.startsWith("retrying"), null,
        "the retrying status after a reconnection", () => alice.page.textContent("#status"));
      assert.deepEqual(JSON.parse((await storageOf(alice.page))["chat.identity"]), stored, "the identity is kept");
      assert.equal(await alice.page.isVisible("#name-form"), false, "no name is asked for");
      await waitForStatus(alice.page, "online");
      assert.deepEqual(await alice.page.evaluate(() => state.me), me);
      assert.equal(await alice.page.isVisible("#error"), false, "the login error is gone once logged in");

      // A refused name (taken) is forgotten and asked for again.
      const bob = await fx.person(t, url, undefined);
      await bob.page.fill("#name", "ALICE");
      await bob.page.click("#name-form button[type=submit]");
      await waitInPage(bob.page, () => document.getElementById("name-error").textContent !== "", null, "name_taken shown");
      assert.equal(await bob.page.evaluate(() => state.identity), null);
      assertNoPageErrors([alice, bob]);
    });

    it("a message the server refuses shows its error and keeps the text", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      // The input stops at 2,000 characters; an older page would not, and the server must say no.
      await alice.page.$eval("#text", (input) => input.removeAttribute("maxlength"));
      const tooLong = "x".repeat(2001);
      await sendMessage(alice.page, tooLong);
      await waitInPage(alice.page, () => document.getElementById("error").dataset.code === "message_too_long", null,
        "the message_too_long error", () => alice.page.evaluate(() => document.getElementById("error").outerHTML));
      assert.equal(await alice.page.isVisible("#error"), true, "the error is visible");
      assert.notEqual((await alice.page.textContent("#error")).trim(), "", "the error says something");
      assert.equal(await alice.page.inputValue("#text"), tooLong, "the text stays in the composer");
      await flush(alice.page);
      assert.deepEqual(await messageLines(alice.page), [], "nothing was posted");

      // Fixing the text hides the error; 2,000 characters are fine.
      const longest = "y".repeat(2000);
      await alice.page.fill("#text", longest);
      assert.equal(await alice.page.isVisible("#error"), false, "editing hides the error");
      await alice.page.click("#composer button[type=submit]");
      await waitForMessage(alice.page, longest);
      assertNoPageErrors([alice]);
    });

    it("a message over the rate limit shows when to send it, keeps the text and blocks nothing", async (t) => {
      // Two messages, then one a day: the third is refused however fast or slow this machine is.
      const { url } = await fx.server(t, { args: ["--limit-messages", "2,86400"] });
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob");
      await say(alice.page, "one");
      await say(alice.page, "two");
      await sendMessage(alice.page, "three, too soon");
      await waitInPage(alice.page, () => document.getElementById("error").dataset.code === "rate_limited", null,
        "the rate_limited notice", () => alice.page.evaluate(() => document.getElementById("error").outerHTML));
      assert.equal(await alice.page.isVisible("#error"), true, "the notice is visible");
      // retry_after is a day less the moment since the second message: rounded up, 24 hours.
      assert.equal(await alice.page.textContent("#error"), "Slow down a little: you can send this in 24 h.");
      assert.equal(await alice.page.inputValue("#text"), "three, too soon", "the text stays in the composer");

      // Nothing is in the way: no dialog, the composer takes more text, and the notice stays.
      assert.equal(await alice.page.isVisible("#login"), false, "no dialog");
      assert.equal(await alice.page.isEnabled("#composer button[type=submit]"), true, "Send is still there");
      await alice.page.focus("#text");
      await alice.page.keyboard.press("End");
      await alice.page.keyboard.type(" and more");
      assert.equal(await alice.page.inputValue("#text"), "three, too soon and more");
      assert.equal(await alice.page.isVisible("#error"), true, "typing keeps the notice");

      // The refused message reached nobody, and the limit is alice's alone.
      await say(bob.page, "bob can still talk");
      await waitForLines(alice.page, ["alice: one", "alice: two", "bob: bob can still talk"]);
      await flush(bob.page);
      assert.deepEqual(await messageLines(bob.page), ["alice: one", "alice: two", "bob: bob can still talk"]);
      assertNoPageErrors([alice, bob]);
    });

    it("a taken name is refused in the form, and a rename shows in the other pages", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      await say(alice.page, "before the rename");

      const bob = await fx.person(t, url, undefined);
      await bob.page.fill("#name", "ALICE");
      await bob.page.click("#name-form button[type=submit]");
      await waitInPage(bob.page, () => document.getElementById("name-error").textContent !== "", null,
        "the name_taken error", () => bob.page.textContent("#name-error"));
      assert.equal(await bob.page.isVisible("#name-error"), true);
      assert.equal(await bob.page.isVisible("#name-form"), true, "the form stays for another try");
      await bob.page.fill("#name", "bob");
      await bob.page.click("#name-form button[type=submit]");
      await waitForStatus(bob.page, "online");
      await waitForLines(bob.page, ["alice: before the rename"]);

      await alice.page.click("#rename");
      await alice.page.fill("#name", "alicia");
      await alice.page.click("#name-form button[type=submit]");
      await waitForText(alice.page, "#me-name", "alicia");
      assert.equal(await alice.page.isVisible("#name-form"), false);
      await waitForNotice(bob.page, "alice is now alicia");
      await waitForOnline(bob.page, ["alicia", "bob"]);
      await say(alice.page, "after the rename");
      // Old messages keep the name they were sent with.
      await waitForLines(bob.page, ["alice: before the rename", "alicia: after the rename"]);

      await alice.page.reload();
      await waitForStatus(alice.page, "online");
      assert.equal(await alice.page.textContent("#me-name"), "alicia", "the new name is remembered");
      assertNoPageErrors([alice, bob]);
    });

    it("on a phone-sized screen the conversation and composer are usable and the rooms are in a drawer", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob", {
        viewport: PHONE,
        contextOptions: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
      });
      const { page } = bob;

      const inside = (box) => box && box.x >= 0 && box.y >= 0 && box.x + box.width <= PHONE.width + 0.5 &&
        box.y + box.height <= PHONE.height + 0.5;
      for (const selector of ["#messages", "#composer", "#text", "#composer button", "#status", "#open-drawer"]) {
        assert.equal(await page.isVisible(selector), true, `${selector} is visible`);
        assert.ok(inside(await page.locator(selector).boundingBox()), `${selector} lies within the screen`);
      }
      assert.equal(await page.isVisible("#rooms"), false, "the room list starts folded away");
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no sideways scrolling");

      await page.locator("#text").tap();
      await page.fill("#text", "typed on a phone");
      await page.tap("#composer button[type=submit]");
      await waitForMessage(alice.page, "typed on a phone");
      await say(alice.page, "received on a desktop");
      await waitForLines(page, ["bob: typed on a phone", "alice: received on a desktop"]);

      // The drawer opens, and choosing a room closes it again.
      await page.tap("#open-drawer");
      // Open means visible and slid all the way in (the slide is animated).
      await waitInPage(page, () => {
        const sidebar = document.getElementById("sidebar");
        return getComputedStyle(sidebar).visibility === "visible" && sidebar.getBoundingClientRect().left === 0;
      }, null, "the drawer open", () => page.locator("#sidebar").boundingBox());
      assert.ok(inside(await page.locator("#sidebar").boundingBox()), "the drawer lies within the screen");
      await page.fill("#room-name", "phones");
      await page.tap("#room-form button[type=submit]");
      await waitForText(page, "#room-title", "#phones");
      await waitInPage(page, () => getComputedStyle(document.getElementById("sidebar")).visibility === "hidden", null,
        "the drawer closed");
      await say(page, "a room of our own");
      assertNoPageErrors([alice, bob]);
    });

    it("rooms: create one, talk there, and count unread messages in rooms not shown", async (t) => {
      const { url } = await fx.server(t);
      const alice = await fx.person(t, url, "alice");
      const bob = await fx.person(t, url, "bob");
      await joinRoom(alice.page, "Design");
      await waitForText(alice.page, "#room-title", "#design");
      await waitForText(bob.page, '#rooms li[data-room="design"] .room-name', "design"); // room_created
      await openRoomInList(bob.page, "design");
      await waitForOnline(alice.page, ["alice", "bob"]);

      // alice goes back to general; the design room stays followed, so bob's messages there count.
      await openRoomInList(alice.page, "general");
      await say(bob.page, "mockups are up");
      await say(bob.page, "two of them");
      await waitForText(alice.page, '#rooms li[data-room="design"] .unread', "2");
      await openRoomInList(alice.page, "design");
      await waitForLines(alice.page, ["bob: mockups are up", "bob: two of them"]);
      assert.equal(await alice.page.isVisible('#rooms li[data-room="design"] .unread'), false);

      const refused = await emitFromPage(alice.page, "join", { room: "no spaces!" });
      assert.deepEqual([refused.ok, refused.error], [false, "bad_room_name"]);
      assertNoPageErrors([alice, bob]);
    });
  });
}
