// A socket.io-client scenario for tests/python/test_recovery.py: a client loses its connection,
// another one sends to its room meanwhile, and it comes back with connection state recovery.
//
//   node recovery_client.mjs recover <url> <transport: polling|websocket|default>
//
// Prints one line of JSON and exits 0, or prints {"error": "..."} and exits 1.
import { ack, connected, io, next, runScenario, transportOptions, WAIT_MS } from "./scenario.mjs";

const [scenario, url, transport] = process.argv.slice(2);

function connect() {
  return io(url, { forceNew: true, reconnection: false, timeout: WAIT_MS, ...transportOptions(transport) });
}

const scenarios = {
  async recover() {
    const out = {};
    const a = connect();
    const firstWelcome = next(a, "welcome");
    await connected(a);
    out.first_welcome = await firstWelcome;
    out.sid = a.id;
    await ack(a, "join", "lobby");
    const b = connect();
    await connected(b);

    const gone = next(a, "disconnect");
    a.io.engine.close();
    await gone;
    // Until the server's disconnect handler has seen it go.
    for (let tries = 0; !(await ack(b, "lost"))[0].includes(out.sid); tries++) {
      if (tries === 250) throw new Error("the server never saw the connection go");
      await new Promise((r) => setTimeout(r, 20));
    }
    await ack(b, "to-room", "lobby", { n: 1 });
    await ack(b, "to-room", "lobby", { n: 2 });

    const rooms = [];
    a.on("room", (...args) => rooms.push(args));
    const secondWelcome = next(a, "welcome");
    const back = connected(a);
    a.connect();
    await back;
    out.second_welcome = await secondWelcome;
    out.recovered = a.recovered;
    out.same_sid = a.id === out.sid;
    await ack(b, "to-room", "lobby", { n: 3 });
    await ack(a, "join", "lobby"); // a round trip: what was sent before it has arrived
    out.rooms = rooms;
    a.close();
    b.close();
    return out;
  },
};

runScenario(scenarios, scenario);
