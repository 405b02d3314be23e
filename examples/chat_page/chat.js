// The chat page: a client of the protocol in docs/protocol.md, in plain browser JavaScript.
//
// One Socket.IO connection carries everything. For every room the page has opened in this visit it
// keeps the room open on the server and keeps its list of messages (as DOM nodes set aside while
// another room is on screen), so switching back is instant and messages for the rooms not shown
// become unread counts. socket.io-client reconnects by itself; every 'connect' logs in again with
// the stored token and re-opens those rooms with `since`, which fills in what was missed.
"use strict";

/** The page's one connection (top level, so tests can inspect it from the page). */
const socket = io();

const TYPING_EVERY_MS = 2000;    // protocol: send typing:true at most this often while keys are pressed
const TYPING_EXPIRES_MS = 5000;  // protocol: forget a typing notice not renewed for this long
const REQUEST_MS = 10000;        // an answer not back by then is reported as an error
const LOGIN_RETRY_MS = [2000, 4000, 8000, 15000, 30000]; // waits before logging in again after a server error
const LONGEST_WAIT_MS = 3600 * 1000; // a retry_after beyond this is waited in steps (setTimeout's range is ~24 days)
const PAGE_SIZE = 50;            // messages fetched per "Load older"
const GROUP_MS = 5 * 60 * 1000;  // messages this close from one author are shown as one block
const STORED_IDENTITY = "chat.identity";
const STORED_ROOM = "chat.room";

const $ = (id) => document.getElementById(id);
const ui = {
  sidebar: $("sidebar"), scrim: $("scrim"), openDrawer: $("open-drawer"), closeDrawer: $("close-drawer"),
  unreadTotal: $("unread-total"), meCard: $("me-card"), meAvatar: $("me-avatar"), meName: $("me-name"), rename: $("rename"),
  publicRooms: $("public-rooms"), privateRooms: $("private-rooms"), roomForm: $("room-form"),
  roomName: $("room-name"), dmForm: $("dm-form"), dmName: $("dm-name"), sidebarError: $("sidebar-error"),
  online: $("online"), onlineCount: $("online-count"), roomTitle: $("room-title"), status: $("status"),
  scroller: $("scroller"), loadOlder: $("load-older"), messages: $("messages"), typing: $("typing"),
  error: $("error"), composer: $("composer"), text: $("text"), send: document.querySelector("#composer button"),
  login: $("login"), nameForm: $("name-form"), nameTitle: $("name-title"), nameIntro: $("name-intro"),
  name: $("name"), nameError: $("name-error"), nameCancel: $("name-cancel"), nameSubmit: $("name-submit"),
};

const state = {
  identity: readIdentity(), // {name, token?}: who to log in as; null until the user picks a name
  me: null,                 // the logged-in User
  ready: false,             // logged in and the shown room open: the badge says "online"
  connection: 0,            // counts connections, so work begun for a dropped one stops
  navigation: 0,            // counts room switches, so a slow join does not override a later click
  rooms: new Map(),         // room id -> entry (see entryFor)
  shown: null,              // id of the room on screen
  wanted: localStorage.getItem(STORED_ROOM) || "general",
  tick: 0,                  // orders private conversations by latest activity
  typingSentAt: 0,          // when we last sent typing:true (0: our notice is off)
  typingRoom: null,
  sending: false,
  nameMode: "login",        // what the name form does: "login" or "rename"
  loginFailures: 0,         // login attempts in a row the server could not answer (unavailable, ...)
  loginRetry: null,         // the timer of the next login attempt
  slowDown: null,           // the timer that counts down a rate_limited notice
};

/** Answers to a login that mean the name itself cannot be used: the user must pick another. */
const NAME_REFUSALS = new Set(["bad_name", "name_taken", "bad_request"]);

// ---------------------------------------------------------------------------------------------
// Talking to the server

/** Sends an event and resolves with its ack; a dropped or silent connection becomes an error ack. */
async function request(event, data) {
  if (!socket.connected) return { ok: false, error: "offline", message: "You are offline." };
  try {
    return await socket.timeout(REQUEST_MS).emitWithAck(event, data);
  } catch {
    return { ok: false, error: "timeout", message: "The server did not answer. Try again." };
  }
}

socket.on("connect", onConnect);
socket.on("disconnect", onDisconnect);
socket.on("connect_error", (err) => setStatus("offline", err.message));
socket.io.on("reconnect_attempt", () => setStatus("connecting"));
socket.on("message", onMessage);
socket.on("typing", onTyping);
socket.on("user_joined", onUserJoined);
socket.on("user_left", onUserLeft);
socket.on("room_created", onRoomCreated);
socket.on("user_renamed", onUserRenamed);

function onConnect() {
  state.connection += 1;
  setStatus("connecting");
  if (state.identity) logIn(state.connection);
}

function onDisconnect(reason) {
  state.connection += 1; // answers still due on the dropped connection are ignored
  clearTimeout(state.loginRetry); // the next 'connect' logs in
  state.loginRetry = null;
  state.ready = false;
  setStatus("offline", reason);
  // The server forgets this connection's rooms; a reconnection opens them again.
  for (const entry of state.rooms.values()) {
    entry.open = false;
    entry.typing.forEach((typist) => clearTimeout(typist.timer));
    entry.typing.clear();
  }
  state.typingSentAt = 0;
  renderTyping();
  renderComposer();
  // The client only stops retrying when the server closed the connection on purpose.
  if (reason === "io server disconnect") socket.connect();
}

/**
 * Logs this connection in as the stored identity, then opens the rooms the page shows. Only an
 * answer about the name (taken, not allowed) forgets the identity and asks for another; any other
 * failure (the server cannot reach its store, no answer) keeps it and tries again a little later.
 */
async function logIn(connection) {
  clearTimeout(state.loginRetry);
  state.loginRetry = null;
  const { name, token } = state.identity;
  const answer = await request("login", token ? { name, token } : { name });
  if (connection !== state.connection) return; // dropped meanwhile: the next 'connect' logs in
  if (!answer.ok) {
    if (answer.error === "offline") return; // the next 'connect' logs in
    if (answer.error === "timeout") return socket.disconnect().connect(); // try again on a fresh connection
    if (NAME_REFUSALS.has(answer.error)) {
      // The name is not usable (taken, or a stored identity the server no longer knows): ask again.
      state.identity = null;
      state.loginFailures = 0;
      showNameForm("login", answer.message, name);
      return;
    }
    retryLogIn(connection, answer);
    return;
  }
  state.loginFailures = 0;
  if (ui.error.dataset.code === "login") hideError();
  state.me = answer.user;
  state.identity = { name: answer.user.name, token: answer.token };
  saveIdentity();
  if (state.nameMode === "login") hideNameForm();
  renderMe();
  setRoomList(answer.rooms, answer.conversations);
  await openRoomsAfterLogin(connection);
}

/** Shows why the login failed and tries again after a wait that grows with each failure in a row. */
function retryLogIn(connection, answer) {
  // Over a rate limit (too many new users from this address), the server says how long to wait.
  const wait = answer.retry_after > 0
    ? Math.min(answer.retry_after * 1000, LONGEST_WAIT_MS)
    : LOGIN_RETRY_MS[Math.min(state.loginFailures, LOGIN_RETRY_MS.length - 1)];
  state.loginFailures += 1;
  const reason = answer.message || answer.error;
  const seconds = Math.round(wait / 1000);
  setStatus("retrying", reason);
  ui.status.textContent = `retrying in ${waitText(seconds)}…`;
  const explanation = `${reason} Trying again in ${waitText(seconds)}.`;
  if (!ui.login.hidden && state.nameMode === "login") setNameError(explanation);
  else showError({ error: "login", message: explanation });
  state.loginRetry = setTimeout(() => {
    state.loginRetry = null;
    if (connection === state.connection && state.identity) logIn(connection);
  }, wait);
}

/** Opens the room to show (the one on screen before a reconnection), then the others followed. */
async function openRoomsAfterLogin(connection) {
  const target = state.shown ?? state.wanted;
  let answer = await openRoom(target);
  if (!answer.ok && target !== "general" && connection === state.connection) answer = await openRoom("general");
  if (connection !== state.connection) return;
  if (answer.ok) setReady();
  else showSidebarError(answer.message);
  for (const entry of state.rooms.values()) {
    if (entry.loaded && !entry.open) join(entry, connection);
  }
}

function setReady() {
  state.ready = true;
  setStatus("online");
  renderComposer();
}

/**
 * Opens a room on this connection and keeps following it. A room the page already holds is asked
 * only for what came after its last message; if the server says there is a gap, the page shows
 * the latest messages instead and "Load older" fills in backwards.
 */
async function join(entry, connection = state.connection) {
  const since = entry.loaded && entry.lastId ? entry.lastId : undefined;
  const answer = await request("join", since === undefined ? { room: entry.id } : { room: entry.id, since });
  if (connection !== state.connection) return { ok: false, error: "offline", message: "You are offline." };
  if (!answer.ok) return answer;
  entry.room = answer.room;
  entry.open = true;
  entry.online = new Map(answer.online.map((user) => [user.id, user]));
  if (since === undefined || answer.has_more) {
    clearList(entry);
    entry.hasMore = answer.has_more;
  }
  let unseen = 0;
  for (const message of answer.messages) {
    if (addMessage(entry, message) && !isMine(message)) unseen += 1;
  }
  // Messages missed by a room followed on the side count as unread there.
  if (since !== undefined && entry.id !== state.shown) entry.unread += unseen;
  entry.loaded = true;
  renderRooms();
  if (entry.id === state.shown) renderRoom();
  return answer;
}

/** Shows a room, opening it first unless it is open already. Resolves with the join's answer. */
async function openRoom(id) {
  const navigation = ++state.navigation;
  // A name typed by the user may differ in case from the room's id.
  const entry = state.rooms.get(id) ?? state.rooms.get(id.toLowerCase()) ??
    entryFor({ id: id.toLowerCase(), name: id, kind: "public" });
  if (!entry.open) {
    const answer = await join(entry);
    if (!answer.ok) {
      if (!entry.loaded && !entry.listed) state.rooms.delete(entry.id); // a name that did not work
      return answer;
    }
  }
  if (navigation === state.navigation) show(entry);
  return { ok: true };
}

/** Starts (or goes back to) the private conversation with the user named `name`. */
async function openPrivate(name) {
  const answer = await request("open_private", { user: name });
  if (!answer.ok) return showSidebarError(answer.message);
  const entry = entryFor(answer.room);
  entry.listed = true;
  entry.activity = ++state.tick;
  const opened = await openRoom(entry.id);
  if (!opened.ok) showSidebarError(opened.message);
}

async function refreshRoomList() {
  const answer = await request("rooms", {});
  if (answer.ok) setRoomList(answer.rooms, answer.conversations);
}

// ---------------------------------------------------------------------------------------------
// Events from the server

function onMessage(message) {
  let entry = state.rooms.get(message.room);
  if (!entry) {
    // Someone started a private conversation we have not heard of: list it under the author's
    // name for now, and ask for the room as the server describes it.
    if (message.room.startsWith("dm:")) refreshRoomList();
    entry = entryFor({ id: message.room, name: message.author.name, kind: "private" });
    entry.listed = true;
  }
  clearTypist(entry, message.author.id); // their message ends their typing notice
  const added = entry.loaded ? addMessage(entry, message) : !isMine(message);
  if (added && entry.id !== state.shown && !isMine(message)) entry.unread += 1;
  if (entry.room.kind === "private") entry.activity = ++state.tick;
  renderRooms();
}

function onTyping({ room, user, typing }) {
  const entry = state.rooms.get(room);
  if (!entry || isMe(user)) return; // our own other tabs are not "someone typing"
  clearTypist(entry, user.id);
  if (typing) {
    const timer = setTimeout(() => clearTypist(entry, user.id), TYPING_EXPIRES_MS);
    entry.typing.set(user.id, { name: user.name, timer });
  }
  if (entry.id === state.shown) renderTyping();
}

function onUserJoined({ room, user }) {
  const entry = state.rooms.get(room);
  if (!entry) return;
  entry.online.set(user.id, user);
  if (!isMe(user)) addNotice(entry, nameNode(user.name), " joined");
  if (entry.id === state.shown) renderOnline();
}

function onUserLeft({ room, user }) {
  const entry = state.rooms.get(room);
  if (!entry) return;
  entry.online.delete(user.id);
  clearTypist(entry, user.id);
  if (!isMe(user)) addNotice(entry, nameNode(user.name), " left");
  if (entry.id === state.shown) renderOnline();
}

function onRoomCreated(room) {
  const entry = entryFor(room);
  entry.listed = true;
  if (room.kind === "private") entry.activity = ++state.tick;
  renderRooms();
}

function onUserRenamed({ user, old_name: oldName }) {
  if (isMe(user)) {
    state.me = user;
    state.identity = { ...state.identity, name: user.name };
    saveIdentity();
    renderMe();
  }
  for (const entry of state.rooms.values()) {
    const { room } = entry;
    // A private room is named after the other member.
    if (room.kind === "private" && !isMe(user) && room.members?.some((member) => member.id === user.id)) {
      room.name = user.name;
    }
    if (entry.online.has(user.id)) {
      entry.online.set(user.id, user);
      addNotice(entry, nameNode(oldName), " is now ", nameNode(user.name));
    }
    const typist = entry.typing.get(user.id);
    if (typist) typist.name = user.name;
  }
  renderRooms();
  renderRoom();
}

// ---------------------------------------------------------------------------------------------
// Rooms and their message lists

/** The page's record of a room, made on first sight. */
function entryFor(room) {
  let entry = state.rooms.get(room.id);
  if (entry) {
    entry.room = room;
    return entry;
  }
  entry = {
    id: room.id,
    room,
    listed: false,                              // the server listed it (not just typed in)
    loaded: false,                              // `items` holds the room's latest messages
    open: false,                                // open on the current connection
    items: document.createDocumentFragment(),   // its list while another room is on screen
    firstId: 0,
    lastId: 0,
    hasMore: false,
    unread: 0,
    activity: 0,
    online: new Map(),                          // user id -> User with the room open
    typing: new Map(),                          // user id -> {name, timer}
  };
  state.rooms.set(room.id, entry);
  return entry;
}

function setRoomList(rooms, conversations) {
  for (const room of rooms) entryFor(room).listed = true;
  // Most recent first from the server: the first gets the highest tick.
  for (const room of [...conversations].reverse()) {
    const entry = entryFor(room);
    entry.listed = true;
    entry.activity = ++state.tick;
  }
  renderRooms();
}

/** Where a room's items live: the visible list for the room on screen, its fragment otherwise. */
function listOf(entry) {
  return entry.id === state.shown ? ui.messages : entry.items;
}

function clearList(entry) {
  listOf(entry).replaceChildren();
  entry.firstId = 0;
  entry.lastId = 0;
}

/** Puts a room on screen, setting the previous one's list aside. */
function show(entry) {
  if (state.shown !== entry.id) {
    stopTyping(); // our typing notice belongs to the room we leave
    const previous = state.rooms.get(state.shown);
    if (previous) previous.items.append(...ui.messages.childNodes);
    state.shown = entry.id;
    ui.messages.replaceChildren(entry.items);
    localStorage.setItem(STORED_ROOM, entry.id);
    hideError();
    scrollToEnd();
  }
  entry.unread = 0;
  renderRooms();
  renderRoom();
  closeDrawer();
}

/**
 * Adds a message to its room's list in id order, once: a message can arrive both as an event and
 * in a join's answer. Returns whether it was new.
 */
function addMessage(entry, message) {
  const list = listOf(entry);
  if (list.querySelector(`li.message[data-id="${message.id}"]`)) return false;
  const onScreen = list === ui.messages;
  const follow = onScreen && (isNearEnd() || isMine(message));

  // Messages nearly always come in order: walk back from the end for the rare ones that do not.
  let next = null;
  for (let node = list.lastElementChild; node; node = node.previousElementSibling) {
    if (!node.classList.contains("message")) continue;
    if (Number(node.dataset.id) < message.id) break;
    next = node;
  }
  const item = renderMessage(message);
  list.insertBefore(item, next);
  regroup(item);
  if (item.nextElementSibling) regroup(item.nextElementSibling);

  entry.firstId = entry.firstId ? Math.min(entry.firstId, message.id) : message.id;
  entry.lastId = Math.max(entry.lastId, message.id);
  if (follow) scrollToEnd();
  return true;
}

/** Adds a line such as "bob joined": `parts` are strings and nodes (names in their own nodes). */
function addNotice(entry, ...parts) {
  if (!entry.loaded) return;
  const follow = entry.id === state.shown && isNearEnd();
  const item = make("li", "notice");
  item.append(...parts);
  listOf(entry).append(item);
  if (follow) scrollToEnd();
}

/** Marks a message that follows its author's previous one closely, so the page shows them as one block. */
function regroup(item) {
  const previous = item.previousElementSibling;
  const continues = Boolean(
    item.classList.contains("message") && previous?.classList.contains("message") &&
      previous.dataset.author === item.dataset.author &&
      Number(item.dataset.time) - Number(previous.dataset.time) < GROUP_MS,
  );
  item.classList.toggle("continued", continues);
}

async function loadOlder() {
  const entry = state.rooms.get(state.shown);
  if (!entry?.firstId) return;
  ui.loadOlder.disabled = true;
  const answer = await request("history", { room: entry.id, before: entry.firstId, limit: PAGE_SIZE });
  ui.loadOlder.disabled = false;
  if (!answer.ok) return showError(answer);
  // Keep the messages being read where they are while older ones appear above them.
  const fromEnd = ui.scroller.scrollHeight - ui.scroller.scrollTop;
  for (const message of answer.messages) addMessage(entry, message);
  entry.hasMore = answer.has_more;
  if (entry.id === state.shown) ui.scroller.scrollTop = ui.scroller.scrollHeight - fromEnd;
  renderLoadOlder();
}

// ---------------------------------------------------------------------------------------------
// Typing notices

function clearTypist(entry, userId) {
  const typist = entry.typing.get(userId);
  if (!typist) return;
  clearTimeout(typist.timer);
  entry.typing.delete(userId);
  if (entry.id === state.shown) renderTyping();
}

/** Called on every keystroke that leaves text in the composer. */
function noteTyping() {
  const now = Date.now();
  if (!state.ready || now - state.typingSentAt < TYPING_EVERY_MS) return;
  state.typingSentAt = now;
  state.typingRoom = state.shown;
  socket.emit("typing", { room: state.shown, typing: true });
}

/** Withdraws our typing notice, if one is up. */
function stopTyping() {
  if (!state.typingSentAt) return;
  state.typingSentAt = 0;
  if (state.ready) socket.emit("typing", { room: state.typingRoom, typing: false });
}

/** "alice is typing…" as strings and nodes, each name in a node of its own. */
function typingSentence(names) {
  const [a, b, c] = names.slice(0, 3).map((name) => nameNode(name));
  if (names.length === 0) return [];
  if (names.length === 1) return [a, " is typing…"];
  if (names.length === 2) return [a, " and ", b, " are typing…"];
  if (names.length === 3) return [a, ", ", b, " and ", c, " are typing…"];
  return ["Several people are typing…"];
}

// ---------------------------------------------------------------------------------------------
// Rendering (user data always goes in as textContent, never as HTML)

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A user's name in an element of its own, a <bdi>: its direction is worked out from the name
 * alone, so a right-to-left name (or one holding bidi characters) cannot reorder the text
 * around it ("bob joined" staying "bob joined").
 */
function nameNode(name, className) {
  return make("bdi", className, name);
}

/** A name inside plain text where no element can go (a tooltip, the tab title): FSI … PDI. */
function isolated(name) {
  return `\u2068${name}\u2069`;
}

/** A round badge with the first letter of a name, its colour fixed per user. */
function avatar(user) {
  const node = make("span", "avatar", initial(user.name));
  node.style.setProperty("--hue", String((user.id * 137) % 360));
  node.setAttribute("aria-hidden", "true");
  return node;
}

function initial(name) {
  return (Array.from(name.trim())[0] ?? "?").toUpperCase();
}

function renderMessage(message) {
  const item = make("li", "message");
  item.dataset.id = String(message.id);
  item.dataset.author = String(message.author.id);
  item.dataset.time = String(message.time);
  if (isMine(message)) item.classList.add("mine");

  const when = new Date(message.time);
  const time = make("time", "time", formatTime(when));
  time.dateTime = when.toISOString();
  time.title = when.toLocaleString();
  const meta = make("div", "meta");
  meta.append(nameNode(message.author.name, "author"), time);
  const body = make("div", "body");
  body.append(meta, make("p", "text", message.text));
  item.append(avatar(message.author), body);
  return item;
}

const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });

function formatTime(when) {
  return when.toDateString() === new Date().toDateString() ? clockFormat.format(when) : dayFormat.format(when);
}

function renderRooms() {
  const publicRooms = [];
  const privateRooms = [];
  for (const entry of state.rooms.values()) {
    if (!entry.listed && !entry.loaded) continue;
    (entry.room.kind === "private" ? privateRooms : publicRooms).push(entry);
  }
  publicRooms.sort((a, b) => (a.id === "general" ? -1 : b.id === "general" ? 1 : a.id.localeCompare(b.id)));
  privateRooms.sort((a, b) => b.activity - a.activity);
  ui.publicRooms.replaceChildren(...publicRooms.map(roomItem));
  ui.privateRooms.replaceChildren(...privateRooms.map(roomItem));

  // Unread messages elsewhere show on the drawer button (phones) and in the tab title.
  const unread = [...state.rooms.values()].reduce((sum, entry) => sum + entry.unread, 0);
  ui.unreadTotal.hidden = unread === 0;
  ui.unreadTotal.textContent = String(unread);
  const shown = state.rooms.get(state.shown);
  const place = shown ? `${roomLabel(shown.room, true)} · chat` : "chat";
  document.title = unread ? `(${unread}) ${place}` : place;
}

function roomItem(entry) {
  const item = make("li", "room");
  item.dataset.room = entry.id;
  const button = make("button");
  button.type = "button";
  if (entry.id === state.shown) {
    item.classList.add("active");
    button.setAttribute("aria-current", "page");
  }
  if (entry.room.kind === "private") {
    const other = entry.room.members?.find((member) => !isMe(member)) ?? { id: 0, name: entry.room.name };
    button.append(avatar({ id: other.id, name: entry.room.name }));
  } else {
    button.append(make("span", "hash", "#"));
  }
  button.append(nameNode(entry.room.name, "room-name"));
  if (entry.unread) {
    item.classList.add("has-unread");
    const badge = make("span", "unread", String(entry.unread));
    badge.setAttribute("aria-label", `${entry.unread} unread`);
    button.append(badge);
  }
  item.append(button);
  return item;
}

/** "#general", or a private room's name (isolated for plain text with `isolate`). */
function roomLabel(room, isolate = false) {
  if (room.kind !== "private") return `#${room.name}`;
  return isolate ? isolated(room.name) : room.name;
}

/** Everything about the room on screen: title, composer hint, people, typing, "Load older". */
function renderRoom() {
  const entry = state.rooms.get(state.shown);
  if (!entry) return;
  const isPrivate = entry.room.kind === "private";
  ui.roomTitle.replaceChildren(isPrivate ? nameNode(entry.room.name) : roomLabel(entry.room));
  ui.roomTitle.classList.toggle("private", isPrivate);
  ui.text.placeholder = `Message ${roomLabel(entry.room, true)}`;
  renderOnline();
  renderTyping();
  renderLoadOlder();
}

function renderOnline() {
  const entry = state.rooms.get(state.shown);
  const users = entry ? [...entry.online.values()] : [];
  users.sort((a, b) => a.name.localeCompare(b.name));
  ui.online.replaceChildren(...users.map(onlineItem));
  ui.onlineCount.textContent = users.length ? String(users.length) : "";
}

/** One person here now; the others are buttons that start a private conversation. */
function onlineItem(user) {
  const item = make("li");
  item.dataset.user = String(user.id);
  if (isMe(user)) {
    item.classList.add("me");
    item.append(make("span", "name", user.name)); // isolated by the style sheet
  } else {
    const button = make("button", "name", user.name); // isolated by the style sheet
    button.type = "button";
    button.title = `Send ${isolated(user.name)} a private message`;
    item.append(button);
  }
  return item;
}

function renderTyping() {
  const entry = state.rooms.get(state.shown);
  const names = entry ? [...entry.typing.values()].map((typist) => typist.name) : [];
  ui.typing.replaceChildren(...typingSentence(names));
}

function renderLoadOlder() {
  const entry = state.rooms.get(state.shown);
  ui.loadOlder.hidden = !(entry?.hasMore && entry.firstId);
}

function renderMe() {
  ui.meCard.hidden = false;
  ui.meName.replaceChildren(nameNode(state.me.name));
  ui.meAvatar.replaceWith(Object.assign(avatar(state.me), { id: "me-avatar" }));
  ui.meAvatar = $("me-avatar");
}

function renderComposer() {
  ui.send.disabled = !state.ready;
}

function setStatus(kind, detail = "") {
  ui.status.textContent = { online: "online", connecting: "connecting…", offline: "offline", retrying: "retrying…" }[kind];
  ui.status.className = `status ${kind}`;
  ui.status.title = detail;
}

function isNearEnd() {
  return ui.scroller.scrollHeight - ui.scroller.scrollTop - ui.scroller.clientHeight < 80;
}

function scrollToEnd() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}

function showError(answer) {
  clearInterval(state.slowDown);
  setError(answer.error, answer.message || answer.error);
}

function setError(code, message) {
  ui.error.textContent = message;
  ui.error.dataset.code = code;
  ui.error.hidden = false;
}

/**
 * A message refused as rate_limited: a short notice (no dialog: the user may keep typing, and the
 * text stays in the composer) that counts down to when it can be sent, then goes away.
 */
function showSlowDown(answer) {
  clearInterval(state.slowDown);
  const until = Date.now() + Math.max(answer.retry_after ?? 1, 1) * 1000;
  const render = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) return setError("rate_limited", `Slow down a little: you can send this in ${waitText(left)}.`);
    hideError();
  };
  render();
  state.slowDown = setInterval(render, 1000);
}

/** "5 s", "3 min", "2 h": a wait, rounded up. */
function waitText(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.ceil(seconds / 60)} min`;
  return `${Math.ceil(seconds / 3600)} h`;
}

function hideError() {
  clearInterval(state.slowDown);
  ui.error.hidden = true;
  ui.error.textContent = "";
  delete ui.error.dataset.code;
}

function showSidebarError(message) {
  ui.sidebarError.textContent = message;
  ui.sidebarError.hidden = !message;
}

// ---------------------------------------------------------------------------------------------
// Identity

function isMe(user) {
  return Boolean(state.me) && user.id === state.me.id;
}

function isMine(message) {
  return isMe(message.author);
}

function readIdentity() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORED_IDENTITY));
    return typeof stored?.name === "string" && typeof stored.token === "string" ? stored : null;
  } catch {
    return null;
  }
}

/** Keeps name and token for the next visit (only once the server gave a token). */
function saveIdentity() {
  if (state.identity?.token) localStorage.setItem(STORED_IDENTITY, JSON.stringify(state.identity));
}

function showNameForm(mode, message = "", value = "") {
  state.nameMode = mode;
  const renaming = mode === "rename";
  ui.nameTitle.textContent = renaming ? "Change your name" : "Welcome to chat";
  ui.nameIntro.textContent = renaming
    ? "Your old messages keep the name they were sent with."
    : "Pick a name the others will see. This browser remembers it.";
  ui.nameSubmit.textContent = renaming ? "Save" : "Start chatting";
  ui.nameCancel.hidden = !renaming;
  ui.nameSubmit.disabled = false;
  ui.name.value = value;
  setNameError(message);
  ui.login.hidden = false;
  ui.name.focus();
  ui.name.select();
}

function hideNameForm() {
  ui.login.hidden = true;
  setNameError("");
}

function setNameError(message) {
  ui.nameError.textContent = message;
  ui.nameError.hidden = !message;
}

async function submitName(event) {
  event.preventDefault();
  const name = ui.name.value.trim();
  if (!name) return setNameError("Please type a name.");
  if (state.nameMode === "rename") {
    const answer = await request("rename", { name });
    if (!answer.ok) return setNameError(answer.message);
    state.me = answer.user;
    state.identity = { ...state.identity, name: answer.user.name };
    saveIdentity();
    renderMe();
    hideNameForm();
    return;
  }
  state.identity = { name };
  if (!socket.connected) return setNameError("Connecting… you will be logged in as soon as the server answers.");
  ui.nameSubmit.disabled = true;
  await logIn(state.connection);
  ui.nameSubmit.disabled = false;
}

// ---------------------------------------------------------------------------------------------
// The phone drawer

function openDrawer() {
  document.body.classList.add("drawer-open");
  ui.scrim.hidden = false;
  ui.openDrawer.setAttribute("aria-expanded", "true");
}

function closeDrawer() {
  document.body.classList.remove("drawer-open");
  ui.scrim.hidden = true;
  ui.openDrawer.setAttribute("aria-expanded", "false");
}

// ---------------------------------------------------------------------------------------------
// What the user does

ui.composer.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = ui.text.value;
  const entry = state.rooms.get(state.shown);
  if (!text.trim() || state.sending || !state.ready || !entry) return;
  state.sending = true;
  stopTyping();
  const answer = await request("message", { room: entry.id, text });
  state.sending = false;
  // The text stays in the composer to fix or send again.
  if (!answer.ok) return answer.error === "rate_limited" ? showSlowDown(answer) : showError(answer);
  hideError();
  if (ui.text.value === text) ui.text.value = "";
  addMessage(entry, answer.message);
});

ui.text.addEventListener("input", () => {
  // An error about the text goes as it is edited; the notice of when to send again stays.
  if (!ui.error.hidden && ui.error.dataset.code !== "rate_limited") hideError();
  if (ui.text.value.trim()) noteTyping();
  else stopTyping();
});

ui.loadOlder.addEventListener("click", loadOlder);

ui.publicRooms.parentElement.addEventListener("click", async (event) => {
  const item = event.target.closest("li.room");
  if (!item) return;
  showSidebarError("");
  const answer = await openRoom(item.dataset.room);
  if (!answer.ok) showSidebarError(answer.message);
});

ui.roomForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = ui.roomName.value.trim();
  if (!name) return;
  showSidebarError("");
  const answer = await openRoom(name);
  if (!answer.ok) return showSidebarError(answer.message);
  ui.roomName.value = "";
});

ui.dmForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = ui.dmName.value.trim();
  if (!name) return;
  showSidebarError("");
  await openPrivate(name);
  if (ui.sidebarError.hidden) ui.dmName.value = "";
});

ui.online.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (button) openPrivate(button.textContent);
});

ui.rename.addEventListener("click", () => showNameForm("rename", "", state.me?.name ?? ""));
ui.nameCancel.addEventListener("click", hideNameForm);
ui.nameForm.addEventListener("submit", submitName);
ui.openDrawer.addEventListener("click", openDrawer);
ui.closeDrawer.addEventListener("click", closeDrawer);
ui.scrim.addEventListener("click", closeDrawer);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  closeDrawer();
  if (state.nameMode === "rename") hideNameForm();
});

// A first visit asks for a name right away; the connection comes up meanwhile.
if (!state.identity) showNameForm("login");
