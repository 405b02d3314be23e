// socket.io-client (Node) against the Flask apps of the Python package's tests:
//
//   node flask_client.mjs flask <url> <transport: polling|websocket|default> <allowed origin> <refused origin>
//   node flask_client.mjs original <url> <transport>
//
// flask (apps/flask_app.py, tests/python/test_flask_app.py): logs in over HTTP, connects with
// the login's cookie and an allowed Origin (as a page of that site would), reads the session
// through events, receives emits made by routes, answers a callback to a room, and is refused
// with another Origin. original (examples/original_app, tests/python/test_original_app.py): two
// tabs of the page chat, each message reaching both.
//
// Prints one line of JSON and exits 0, or prints {"error": "..."} and exits 1; every wait is
// bounded.
import { ack, connected, io, next, runScenario, timeout, transportOptions, WAIT_MS } from "./scenario.mjs";

const [scenario, url, transport, allowedOrigin, refusedOrigin] = process.argv.slice(2);

function connect(headers) {
  return io(url, { forceNew: true, reconnection: false, timeout: WAIT_MS, extraHeaders: headers,
                   ...transportOptions(transport) });
}

async function get(pathname, headers = {}) {
  const response = await timeout(fetch(url + pathname, { headers }), `GET ${pathname}`);
  if (response.status !== 200) throw new Error(`GET ${pathname}: ${response.status}`);
  return response;
}

const scenarios = {
  async original() {
    const tabs = [connect({ Origin: url }), connect({ Origin: url })];
    await Promise.all(tabs.map(connected));
    const out = { received: [[], []] };
    for (const [index, message] of [[0, "hello from node tab 0"], [1, "and from tab 1"]]) {
      const arrived = tabs.map((tab) => next(tab, "message"));
      tabs[index].emit("message", message);
      (await Promise.all(arrived)).forEach(([data], i) => out.received[i].push(data));
    }
    out.transport = tabs[0].io.engine.transport.name;
    tabs.forEach((tab) => tab.disconnect());
    return out;
  },

  async flask() {
    const out = {};
    const login = await get("/login/erin");
    const cookie = login.headers.get("set-cookie").split(";")[0];
    const socket = connect({ Cookie: cookie, Origin: allowedOrigin });
    await connected(socket);
    out.sid = socket.id;
    [out.whoami] = await ack(socket, "whoami");
    [out.whoami_again] = await ack(socket, "whoami");

    const notified = next(socket, "notified");
    await get("/notify/" + socket.id);
    out.notified = await notified;
    const news = next(socket, "news");
    await get("/news");
    out.news = await news;

    // a callback to every member of a room, asked from a route
    const other = connect({ Origin: allowedOrigin });
    await connected(other);
    const room = "node-" + socket.id;
    for (const member of [socket, other]) {
      member.on("question", (asked, reply) => reply("answer", member.id, asked));
      await ack(member, "join", room);
    }
    out.member_sids = [socket.id, other.id];
    await get("/ask-room/" + room);
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const answers = await (await get("/answers")).json();
      out.answers = answers.filter((a) => a.answer[2] === room);
      if (out.answers.length >= 2 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const refused = connect({ Origin: refusedOrigin });
    const error = await timeout(new Promise((resolve, reject) => {
      refused.once("connect_error", resolve);
      refused.once("connect", () => reject(new Error("connected from a refused origin")));
    }), "connect_error from a refused origin");
    out.refused = { message: error.message, connected: refused.connected };
    refused.close();

    out.transport = socket.io.engine.transport.name;
    socket.disconnect();
    other.disconnect();
    return out;
  },
};

await runScenario(scenarios, scenario);
