// A realistic conversation on the chat page (three people, a few rooms, a private message, an
// unread count, someone typing), photographed at desktop and phone size. The C++ server's run
// writes docs/screenshot-chat.png and docs/screenshot-chat-phone.png; the same scenario runs on
// the Python server as one more check that both serve the same page the same way.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import {
  REPO_ROOT,
  SERVERS,
  PHONE,
  chatFixtures,
  waitForStatus,
  waitForLines,
  waitForText,
  say,
  joinRoom,
  openRoomInList,
  emitFromPage,
  storageOf,
  assertNoPageErrors,
} from "./support.mjs";

const SCREENSHOTS = {
  desktop: path.join(REPO_ROOT, "docs", "screenshot-chat.png"),
  phone: path.join(REPO_ROOT, "docs", "screenshot-chat-phone.png"),
};
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const GENERAL = [
  ["Alice", "Good morning! Is the release still on for Friday?"],
  ["Bob", "Yes. Two things left: the changelog and a last look at the phone layout."],
  ["Alice", "I'll write the changelog this afternoon."],
  ["Alice", "Does reconnecting work on the train yet?"],
  ["Bob", "It does: the page logs in again and fills in whatever it missed while offline."],
  ["Carol", "Hi both! I can test it on my phone tonight."],
  ["Alice", "Perfect, thanks Carol!"],
];

for (const server of SERVERS) {
  describe(`chat page screenshots on the ${server.label}`, { skip: server.skip }, () => {
    const fx = chatFixtures(server);
    const writeFiles = server === SERVERS[0]; // the C++ server's run makes the docs' pictures

    it("a conversation with a few rooms, at desktop and at phone size", async (t) => {
      const { url } = await fx.server(t);
      const people = {
        Alice: await fx.person(t, url, "Alice"),
        Bob: await fx.person(t, url, "Bob"),
      };
      const { Alice: alice, Bob: bob } = people;

      // Bob opens a design room; Alice follows it, then both go back to general.
      await joinRoom(bob.page, "design");
      await say(bob.page, "Mock-ups for the phone layout are up: the room list is a drawer now.");
      await joinRoom(alice.page, "design");
      await openRoomInList(alice.page, "general");
      await openRoomInList(bob.page, "general");

      for (const [author, text] of GENERAL) {
        if (author === "Carol" && !people.Carol) {
          people.Carol = await fx.person(t, url, "Carol");
          await joinRoom(people.Carol.page, "random");
          await openRoomInList(people.Carol.page, "general");
        }
        await say(people[author].page, text);
      }
      const lines = GENERAL.map(([author, text]) => `${author}: ${text}`);
      await waitForLines(alice.page, lines);

      // Bob writes to Alice privately, posts in design, and starts typing in general.
      await bob.page.click('#online li button:text-is("Alice")');
      await waitForText(bob.page, "#room-title", "Alice");
      await say(bob.page, "Could you review my pull request when you have a minute?");
      await openRoomInList(bob.page, "design");
      await say(bob.page, "Second version attached, with the dark sidebar.");
      await openRoomInList(bob.page, "general");
      await waitForText(alice.page, '#private-rooms li[data-room^="dm:"] .unread', "1");
      await waitForText(alice.page, '#rooms li[data-room="design"] .unread', "1");
      await waitForText(alice.page, '#rooms li[data-room="random"] .room-name', "random");
      await emitFromPage(bob.page, "typing", { room: "general", typing: true });
      await waitForText(alice.page, "#typing", "Bob is typing…");

      await alice.page.locator("#text").blur();
      const desktop = await alice.page.screenshot(writeFiles ? { path: await target("desktop") } : {});
      assert.deepEqual([...desktop.subarray(0, 8)], PNG_SIGNATURE, "a PNG");

      // Alice again, on her phone: the same identity, carried over in localStorage.
      const stored = await storageOf(alice.page);
      const phone = await fx.person(t, url, undefined, {
        viewport: PHONE,
        contextOptions: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
        beforeLoad: (page) => page.context().addInitScript((entries) => {
          for (const [key, value] of Object.entries(entries)) localStorage.setItem(key, value);
        }, stored),
      });
      phone.name = "Alice on a phone";
      await waitForStatus(phone.page, "online");
      await waitForLines(phone.page, lines);
      // A second private message arrives while she reads general: the drawer button counts it.
      await bob.page.click('#private-rooms li[data-room^="dm:"] button');
      await waitForText(bob.page, "#room-title", "Alice");
      await say(bob.page, "No rush, tomorrow is fine.");
      await openRoomInList(bob.page, "general");
      await waitForText(phone.page, "#unread-total", "1");
      await emitFromPage(bob.page, "typing", { room: "general", typing: true });
      await waitForText(phone.page, "#typing", "Bob is typing…");
      const small = await phone.page.screenshot(writeFiles ? { path: await target("phone") } : {});
      assert.deepEqual([...small.subarray(0, 8)], PNG_SIGNATURE, "a PNG");

      assertNoPageErrors([...Object.values(people), phone]);
    });
  });
}

async function target(kind) {
  await mkdir(path.dirname(SCREENSHOTS[kind]), { recursive: true });
  return SCREENSHOTS[kind];
}
