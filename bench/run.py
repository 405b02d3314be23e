"""The benchmark runner (started by bench/run, which builds first): starts each server under test
pinned to one core, drives it with chat_loadgen pinned to another, repeats each case, and writes
docs/benchmarks.md (a table of medians, ratios to Node socket.io from the same run, server CPU per
delivery/ack) and docs/benchmarks.png.

Run with Debian's /usr/bin/python3 (matplotlib, Flask-SocketIO and gevent come from Debian).
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
MARK_BEGIN = "<!-- bench/run: results begin (generated; text outside these markers is kept) -->"
MARK_END = "<!-- bench/run: results end -->"


def rel(path):
    return os.path.relpath(path, ROOT)


# ---- the servers under test -------------------------------------------------------------------


class ServerSpec:
    def __init__(self, key, label, command, available, note=""):
        self.key = key
        self.label = label
        self.command = command  # list, without taskset
        self.available = available
        self.note = note


def server_specs(bin_dir):
    specs = []
    chat_bin = os.path.join(bin_dir, "chat_bench_server")
    specs.append(ServerSpec("chat", "chat (C++)", [chat_bin], os.access(chat_bin, os.X_OK),
                            "" if os.access(chat_bin, os.X_OK) else "not built"))

    # SLOT: chat hosted from Python (handlers in Python), bench/servers/chat_python_server.py; the
    # case is skipped with a note when that file is absent. Like the others: the same two jobs
    # ('message' broadcast to everyone, 'echo' acked with its arguments), WebSocket, ping 25/20 s,
    # logging off, "READY <port>" on stdout, --host/--port flags. It runs with the interpreter of
    # $CHAT_BENCH_PYTHON, else the repository's .venv (where the chat package is), else Debian's
    # /usr/bin/python3.
    chat_py = os.path.join(BENCH, "servers", "chat_python_server.py")
    python = os.environ.get("CHAT_BENCH_PYTHON") or (
        os.path.join(ROOT, ".venv", "bin", "python") if os.access(os.path.join(ROOT, ".venv", "bin", "python"), os.X_OK)
        else "/usr/bin/python3")
    if os.path.exists(chat_py):
        specs.append(ServerSpec("chat-python", "chat (Python handlers)", [python, chat_py], True))
    else:
        specs.append(ServerSpec("chat-python", "chat (Python handlers)", None, False,
                                "not available yet: bench/servers/chat_python_server.py does not exist"))

    relay_bin = os.path.join(bin_dir, "chat_bench_relay")
    specs.append(ServerSpec("relay", "websocketpp relay (bare)", [relay_bin], os.access(relay_bin, os.X_OK),
                            "" if os.access(relay_bin, os.X_OK) else "not built"))

    node = shutil.which("node")
    node_ok = node is not None and os.path.isdir(os.path.join(BENCH, "node_modules", "socket.io"))
    specs.append(ServerSpec("node", "Node socket.io 4.8", [node or "node", os.path.join(BENCH, "servers", "node_server.mjs")],
                            node_ok, "" if node_ok else "node or bench/node_modules/socket.io missing"))

    flask_ok = subprocess.run(["/usr/bin/python3", "-c", "import flask_socketio, gevent, geventwebsocket"],
                              capture_output=True).returncode == 0
    specs.append(ServerSpec("flask", "Flask-SocketIO 5.3 (gevent)",
                            ["/usr/bin/python3", os.path.join(BENCH, "servers", "flask_server.py")], flask_ok,
                            "" if flask_ok else "python3-flask-socketio, python3-gevent or python3-gevent-websocket missing"))
    return specs


class RunningServer:
    def __init__(self, spec, core):
        """Starts the server pinned to `core` (a taskset list such as "0"), or unpinned with None."""
        self.spec = spec
        pin = [] if core is None else ["taskset", "-c", str(core)]
        cmd = pin + spec.command + ["--host", "127.0.0.1", "--port", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.match(r"READY (\d+)", line.strip())
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("%s did not start: %s" % (spec.key, self.stderr_tail()))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stderr_tail(self):
        try:
            return (self.proc.stderr.read() or "")[-2000:]
        except Exception:  # noqa: BLE001
            return ""

    def stop(self):
        """Stops the server; returns (exit code, crashed?) where crashed means it had died before."""
        crashed = self.proc.poll() is not None
        if not crashed:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode, crashed


# ---- one measurement --------------------------------------------------------------------------


def run_loadgen(loadgen, core, port, server_pid, args, timeout):
    pin = [] if core is None else ["taskset", "-c", str(core)]
    cmd = pin + [loadgen, "--port", str(port), "--server-pid", str(server_pid)] + args
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "load generator timed out after %ds" % timeout}
    line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    try:
        return json.loads(line)
    except ValueError:
        return {"error": "no result (exit %d): %s" % (out.returncode, out.stderr.strip()[-500:])}


def case_args(case, cfg, rate=None):
    common = ["--warmup", str(cfg.warmup), "--duration", str(cfg.duration), "--payload", str(cfg.payload)]
    if case == "fanout":
        return ["--mode", "fanout", "--clients", str(cfg.fanout_clients), "--inflight", str(cfg.inflight)] + common
    if case == "echo":
        return ["--mode", "echo", "--clients", str(cfg.echo_clients), "--inflight", "1"] + common
    if case in ("rate", "rate-own"):
        return ["--mode", "rate", "--clients", str(cfg.rate_clients), "--rate", str(rate)] + common
    if case == "idle":
        return ["--mode", "idle", "--clients", str(cfg.idle_clients), "--warmup", str(cfg.idle_settle),
                "--duration", str(cfg.idle_hold), "--source-addrs", "auto",
                "--connect-timeout", str(max(120, cfg.idle_clients / 100))]
    raise ValueError(case)


def busy_cpu_s():
    """CPU seconds every process of the machine has used since boot, plus time stolen by the
    hypervisor (/proc/stat). Interrupt and softirq time is left out: on loopback it is mostly the
    benchmark's own packets, charged to no process."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(spec, case, cfg, loadgen, rate=None, pinned=True):
    """Starts a fresh server, runs one case against it, stops it. Returns the result dict, with
    `other_cpu_pct`: the CPU the rest of the machine used meanwhile (busy time of every core minus
    the server's and the generator's), in % of one core, to tell runs disturbed by other work.
    Unpinned, the server's threads and the generator go wherever the kernel puts them."""
    busy0, children0, wall0 = busy_cpu_s(), children_cpu_s(), time.time()
    try:
        server = RunningServer(spec, cfg.server_core if pinned else None)
    except RuntimeError as e:
        return {"error": str(e)}
    time.sleep(1.0 if case == "idle" else 0.3)  # let the runtime settle before the RSS baseline
    budget = 60 + cfg.warmup + cfg.duration + 30
    if case == "idle":
        budget = 60 + cfg.idle_settle + cfg.idle_hold + max(120, cfg.idle_clients / 100)
    result = run_loadgen(loadgen, cfg.gen_core if pinned else None, server.port, server.pid,
                         case_args(case, cfg, rate), budget)
    code, crashed = server.stop()
    if crashed:
        result["server_crashed"] = "exit code %s: %s" % (code, server.stderr_tail()[-500:])
    other = (busy_cpu_s() - busy0) - (children_cpu_s() - children0)
    result["other_cpu_pct"] = max(0.0, 100.0 * other / max(1e-9, time.time() - wall0))
    return result


# ---- aggregation ------------------------------------------------------------------------------


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(results):
    """Medians over the repeats of one (case, server)."""
    ok = [r for r in results if not r.get("error") and not r.get("server_crashed")]
    s = {"runs": len(results), "ok_runs": len(ok),
         "errors": sorted({r.get("error") or r.get("server_crashed") for r in results
                           if r.get("error") or r.get("server_crashed")})}
    if not ok:
        return s
    s["ops_per_s"] = median([r.get("ops_per_s") for r in ok])
    s["cpu_us"] = median([r.get("server_cpu_us_per_op") for r in ok])
    s["server_cpu_pct"] = median([r.get("server_cpu_pct") for r in ok])
    s["gen_cpu_pct"] = median([r.get("gen_cpu_pct") for r in ok])
    s["p50_us"] = median([r.get("latency_us", {}).get("p50") for r in ok])
    s["p99_us"] = median([r.get("latency_us", {}).get("p99") for r in ok])
    s["lost"] = sum(r.get("lost", 0) for r in ok)
    s["disconnects"] = sum(r.get("disconnects", 0) for r in ok)
    s["rate_target"] = median([r.get("rate_target") for r in ok])
    s["connected"] = median([r.get("connected") for r in ok])
    s["clients"] = ok[0].get("clients")
    s["still_connected"] = median([r.get("still_connected") for r in ok])
    s["pings_answered"] = median([r.get("pings_answered") for r in ok])
    s["rss_per_conn"] = median([r.get("rss_per_conn_bytes") for r in ok])
    pss = []
    for r in ok:
        if r.get("pss_end_kb", -1) > 0 and r.get("pss_baseline_kb", -1) > 0 and r.get("connected"):
            pss.append((r["pss_end_kb"] - r["pss_baseline_kb"]) * 1024.0 / r["connected"])
    s["pss_per_conn"] = median(pss)
    growth = [r["rss_end_kb"] - r["rss_connected_kb"] for r in ok
              if r.get("rss_end_kb", -1) > 0 and r.get("rss_connected_kb", -1) > 0]
    s["rss_growth_kb"] = median(growth)
    s["connects_per_s"] = median([r.get("connects_per_s") for r in ok])
    s["send_lateness_us"] = median([r.get("max_send_lateness_us") for r in ok])
    # A throughput is the server's maximum only when the server had its core busy all along.
    s["saturated"] = (s["server_cpu_pct"] or 0) >= 90
    return s


# ---- report -----------------------------------------------------------------------------------


def fmt_int(v):
    return "–" if v is None else "{:,.0f}".format(v)


def fmt_us(v):
    if v is None:
        return "–"
    return "{:,.0f} µs".format(v) if v < 1000 else "{:,.1f} ms".format(v / 1000)


def fmt_f(v, digits=1):
    return "–" if v is None else ("{:,.%df}" % digits).format(v)


def fmt_ratio(v, base):
    if v is None or not base:
        return "–"
    return "{:.2f}×".format(v / base)


def tool_versions():
    versions = {}

    def cmd(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=20).stdout.strip()
        except Exception:  # noqa: BLE001
            return ""

    versions["node"] = cmd(["node", "--version"])
    try:
        with open(os.path.join(BENCH, "node_modules", "socket.io", "package.json")) as f:
            versions["socket.io"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        pass
    for pkg in ("python3-flask-socketio", "python3-socketio", "python3-engineio", "python3-gevent",
                "python3-gevent-websocket", "libwebsocketpp-dev", "libasio-dev"):
        v = cmd(["dpkg-query", "-W", "-f=${Version}", pkg])
        if v:
            versions[pkg] = v
    versions["chat commit"] = cmd(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if cmd(["git", "-C", ROOT, "status", "--porcelain", "--", "include"]):
        versions["chat commit"] += " (include/ modified)"
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions["cpu"] = "%s, %d cores" % (cpu, os.cpu_count() or 0)
    versions["kernel"] = platform.release()
    return versions


CASE_TITLES = {
    "fanout": "Fan-out",
    "echo": "Echo",
    "rate": "Fixed rate",
    "rate-own": "Fixed rate at a share of each server's own fan-out maximum",
    "idle": "Idle connections",
}


def write_report(cfg, specs, summaries, notes, md_path, png_path, started, elapsed):
    keys = [s.key for s in specs]
    labels = {s.key: s.label for s in specs}
    lines = []
    lines.append(MARK_BEGIN)
    lines.append("")
    how = ("Rewritten by `bench/run%s` on %s from the raw results of an earlier run." if cfg.report_only
           else "Generated by `bench/run%s` on %s in {:.0f} s.".format(elapsed))
    lines.append((how + " %s") % (
        " " + " ".join(cfg.argv) if cfg.argv else "", started.strftime("%Y-%m-%d %H:%M UTC"),
        "**Quick smoke run: small sizes, short windows, one repeat — not a measurement.**" if cfg.quick else
        "Medians of %d repeats (servers interleaved)." % cfg.repeats))
    lines.append("")
    v = tool_versions()
    lines.append("Machine: %s; Linux %s. Server on core %d, load generator on core %d." % (
        v.pop("cpu"), v.pop("kernel"), cfg.server_core, cfg.gen_core))
    lines.append("Versions: " + "; ".join("%s %s" % kv for kv in v.items()) + ".")
    lines.append("")
    lines.append("CPU µs/op is the server's own CPU time (utime+stime from /proc, all threads) over the measured "
                 "window divided by the deliveries (or acks) in it; on loopback it includes the kernel's work "
                 "for the receiving side. A throughput marked † was not server-bound (server CPU below 90%): "
                 "it says less than its CPU µs/op. A generator near or above 80% means it was close to being "
                 "the limit too (see \"Reading the numbers\").")
    lines.append("")

    skipped = [s for s in specs if not s.available]
    for s in skipped:
        lines.append("- **%s** skipped: %s." % (s.label, s.note))
    for n in notes:
        lines.append("- " + n)
    if skipped or notes:
        lines.append("")

    def s_of(case, key):
        return summaries.get(case, {}).get(key)

    def errors_cell(s):
        if s is None:
            return "not run"
        if s.get("ok_runs", 0) == 0:
            return "failed: " + "; ".join(e[:120] for e in s["errors"])
        return ""

    def mark(s):
        return "" if s.get("saturated") else " †"

    # fan-out
    if "fanout" in summaries:
        node = s_of("fanout", "node")
        base = node.get("ops_per_s") if node else None
        lines.append("### Fan-out: %s clients, %d-byte messages, %d broadcasts in flight" % (
            fmt_int(cfg.fanout_clients), cfg.payload, cfg.inflight))
        lines.append("")
        lines.append("| server | deliveries/s | vs Node | CPU µs/delivery | p50 | p99 | server CPU | generator CPU | lost |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for key in keys:
            s = s_of("fanout", key)
            if s is None or errors_cell(s):
                if s is not None:
                    lines.append("| %s | %s |||||||" % (labels[key], errors_cell(s)))
                continue
            lines.append("| %s | %s%s | %s | %s | %s | %s | %s%% | %s%% | %s |" % (
                labels[key], fmt_int(s["ops_per_s"]), mark(s), fmt_ratio(s["ops_per_s"], base), fmt_f(s["cpu_us"], 2),
                fmt_us(s["p50_us"]), fmt_us(s["p99_us"]), fmt_f(s["server_cpu_pct"], 0), fmt_f(s["gen_cpu_pct"], 0),
                fmt_int(s["lost"])))
        lines.append("")

    if "echo" in summaries:
        node = s_of("echo", "node")
        base = node.get("ops_per_s") if node else None
        lines.append("### Echo: %s clients, each one emit with ack outstanding (closed loop)" % fmt_int(cfg.echo_clients))
        lines.append("")
        lines.append("| server | acks/s | vs Node | CPU µs/ack | p50 | p99 | server CPU | generator CPU | lost |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for key in keys:
            s = s_of("echo", key)
            if s is None or errors_cell(s):
                if s is not None:
                    lines.append("| %s | %s |||||||" % (labels[key], errors_cell(s)))
                continue
            lines.append("| %s | %s%s | %s | %s | %s | %s | %s%% | %s%% | %s |" % (
                labels[key], fmt_int(s["ops_per_s"]), mark(s), fmt_ratio(s["ops_per_s"], base), fmt_f(s["cpu_us"], 2),
                fmt_us(s["p50_us"]), fmt_us(s["p99_us"]), fmt_f(s["server_cpu_pct"], 0), fmt_f(s["gen_cpu_pct"], 0),
                fmt_int(s["lost"])))
        lines.append("")

    for case in ("rate", "rate-own"):
        if case not in summaries:
            continue
        if case == "rate":
            lines.append("### Fixed rate: %s deliveries/s to %s clients (open loop)" % (
                fmt_int(cfg.rate), fmt_int(cfg.rate_clients)))
        else:
            lines.append("### Fixed rate at %d%% of each server's own fan-out maximum, %s clients (open loop)" % (
                round(cfg.rate_fraction * 100), fmt_int(cfg.rate_clients)))
        lines.append("")
        lines.append("| server | target/s | delivered/s | p50 | p99 | server CPU | CPU µs/delivery | lost | latest send |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for key in keys:
            s = s_of(case, key)
            if s is None:
                continue
            if s.get("skipped"):
                lines.append("| %s | %s ||||||||" % (labels[key], s["skipped"]))
                continue
            if errors_cell(s):
                lines.append("| %s | %s ||||||||" % (labels[key], errors_cell(s)))
                continue
            over = ""
            if s["rate_target"] and s["ops_per_s"] is not None and (
                    s["ops_per_s"] < 0.97 * s["rate_target"] or s["lost"]):
                over = " (overloaded)"
            lines.append("| %s%s | %s | %s | %s | %s | %s%% | %s | %s | %s |" % (
                labels[key], over, fmt_int(s["rate_target"]), fmt_int(s["ops_per_s"]), fmt_us(s["p50_us"]),
                fmt_us(s["p99_us"]), fmt_f(s["server_cpu_pct"], 0), fmt_f(s["cpu_us"], 2), fmt_int(s["lost"]),
                fmt_us(s["send_lateness_us"])))
        lines.append("")
        if case == "rate-own" or "rate-own" not in summaries:
            lines.append("Latency counts from each broadcast's scheduled time; \"latest send\" is how late the "
                     "generator's own timer sent a broadcast at worst (generator-side delay, included in the latency). "
                     "Overloaded: fewer deliveries than the target in the window, or some still undelivered "
                     "after the drain. Sparse broadcasts are not coalesced into shared writes, so a delivery "
                     "costs the server about one send() here, several times its cost in the closed-loop fan-out.")
            lines.append("")

    if "idle" in summaries:
        node = s_of("idle", "node")
        lines.append("### Idle: %s WebSocket connections held %s s (ping every 25 s)" % (
            fmt_int(cfg.idle_clients), fmt_f(cfg.idle_hold, 0)))
        lines.append("")
        lines.append("| server | connected | still connected | pings answered | RSS/connection | vs Node | PSS/connection | connects/s | server CPU |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for key in keys:
            s = s_of("idle", key)
            if s is None or errors_cell(s):
                if s is not None:
                    lines.append("| %s | %s ||||||||" % (labels[key], errors_cell(s)))
                continue
            base = node.get("rss_per_conn") if node else None
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s%% |" % (
                labels[key], fmt_int(s["connected"]), fmt_int(s["still_connected"]), fmt_int(s["pings_answered"]),
                "–" if s["rss_per_conn"] is None else "{:.1f} KB".format(s["rss_per_conn"] / 1024),
                fmt_ratio(s["rss_per_conn"], base),
                "–" if s["pss_per_conn"] is None else "{:.1f} KB".format(s["pss_per_conn"] / 1024),
                fmt_int(s["connects_per_s"]), fmt_f(s["server_cpu_pct"], 1)))
        lines.append("")
        lines.append("RSS/connection is (VmRSS after the hold − VmRSS before any connection) / connections; "
                     "KB = 1024 bytes.")
        lines.append("")

    # targets of the issue, for chat (C++) against the peers of this run
    t = []

    def get(case, key, field):
        s = s_of(case, key)
        return s.get(field) if s else None

    c_f, n_f, r_cpu_f, c_cpu_f = (get("fanout", "chat", "ops_per_s"), get("fanout", "node", "ops_per_s"),
                                  get("fanout", "relay", "cpu_us"), get("fanout", "chat", "cpu_us"))
    if c_f and n_f:
        t.append(("fan-out ≥ 6× Node socket.io", "%.2f×" % (c_f / n_f), c_f / n_f >= 6))
    if c_cpu_f and r_cpu_f:
        t.append(("fan-out CPU/delivery ≤ 1.25× relay", "%.2f×" % (c_cpu_f / r_cpu_f), c_cpu_f / r_cpu_f <= 1.25))
    c_e, n_e, r_cpu_e, c_cpu_e = (get("echo", "chat", "ops_per_s"), get("echo", "node", "ops_per_s"),
                                  get("echo", "relay", "cpu_us"), get("echo", "chat", "cpu_us"))
    if c_e and n_e:
        t.append(("echo ≥ 2× Node socket.io", "%.2f×" % (c_e / n_e), c_e / n_e >= 2))
    if c_cpu_e and r_cpu_e:
        t.append(("echo CPU/ack ≤ 1.25× relay", "%.2f×" % (c_cpu_e / r_cpu_e), c_cpu_e / r_cpu_e <= 1.25))
    p_f, p_e, f_e = get("fanout", "chat-python", "ops_per_s"), get("echo", "chat-python", "ops_per_s"), get("echo", "flask", "ops_per_s")
    if p_f and n_f:
        t.append(("Python-hosted fan-out ≥ 5× Node socket.io", "%.2f×" % (p_f / n_f), p_f / n_f >= 5))
    if p_e and f_e:  # an earlier issue's target, then issue 15's
        for times in (5, 8):
            t.append(("Python-hosted echo ≥ %d× Flask-SocketIO" % times, "%.2f×" % (p_e / f_e), p_e / f_e >= times))
    if p_e and n_e:
        t.append(("Python-hosted echo ≥ 1.0× Node socket.io", "%.2f×" % (p_e / n_e), p_e / n_e >= 1.0))
    p_cpu_f = get("fanout", "chat-python", "cpu_us")
    if p_cpu_f and c_cpu_f:
        t.append(("Python-hosted fan-out CPU/delivery ≤ 1.1× the C++ host's", "%.2f×" % (p_cpu_f / c_cpu_f),
                  p_cpu_f / c_cpu_f <= 1.1))
    p99 = get("rate", "chat", "p99_us")
    if p99 is not None:
        t.append(("p99 < 5 ms at %s deliveries/s to %s clients" % (fmt_int(cfg.rate), fmt_int(cfg.rate_clients)),
                  fmt_us(p99), p99 < 5000))
    rss = get("idle", "chat", "rss_per_conn")
    if rss is not None:
        t.append(("≤ 8 KB per idle connection", "{:.1f} KB".format(rss / 1024), rss <= 8 * 1024))
        held, n, pings = get("idle", "chat", "still_connected"), get("idle", "chat", "connected"), get("idle", "chat", "pings_answered")
        clients = get("idle", "chat", "clients")
        if cfg.idle_hold >= 25:
            every = "yes" if held == clients and n == clients and pings is not None and pings >= clients else "**no**"
        else:
            every = "n/a (held under 25 s: no ping due)"
        t.append(("%s connections held, every ping answered" % fmt_int(clients),
                  "%s held, %s pings answered" % (fmt_int(held), fmt_int(pings)), every))
    if t:
        lines.append("### The targets from the issues, from this run")
        lines.append("")
        lines.append("| target | this run | met |")
        lines.append("|---|---:|:---:|")
        for name, value, met in t:
            lines.append("| %s | %s | %s |" % (name, value, met if isinstance(met, str) else "yes" if met else "**no**"))
        lines.append("")
        if cfg.quick:
            lines.append("A quick run's sizes differ from the targets' (fewer clients, shorter windows): indicative only.")
            lines.append("")

    if png_path:
        lines.append("![benchmark chart](%s)" % os.path.relpath(png_path, os.path.dirname(md_path)))
        lines.append("")
    lines.append("Raw results of every run (JSON lines): `%s`." % rel(cfg.raw_path))
    lines.append("")
    lines.append(MARK_END)
    generated = "\n".join(lines)

    head = DEFAULT_HEAD
    tail = DEFAULT_TAIL
    if os.path.exists(md_path):
        with open(md_path) as f:
            old = f.read()
        if MARK_BEGIN in old and MARK_END in old:
            head = old[: old.index(MARK_BEGIN)]
            tail = old[old.index(MARK_END) + len(MARK_END):]
    os.makedirs(os.path.dirname(md_path), exist_ok=True)
    with open(md_path, "w") as f:
        f.write(head + generated + tail)


DEFAULT_HEAD = """# Benchmarks

chat against its peers, each server doing the same two jobs — on `message`, broadcast `message`
with the same arguments to everyone (the sender included); on `echo`, acknowledge with the same
arguments — over WebSocket, without compression, pinging every 25 s (timeout 20 s), logging off:

- **chat (C++)**: `bench/servers/chat_bench_server.cpp`, handlers in C++;
- **chat (Python handlers)**: chat hosted from Python, `bench/servers/chat_python_server.py` (run
  with the repository's `.venv`; skipped with a note when that file is absent);
- **websocketpp relay**: `bench/servers/relay.cpp`, bare websocketpp 0.8.2 with chat's single-thread
  config, answering the Engine.IO/Socket.IO handshake minimally and forwarding each broadcast as one
  prepared frame shared by all connections, one websocketpp send per frame and connection:
  websocketpp used the plain way (chat's transport holds a turn's frames for one write per
  connection, which the relay does not, so chat's fan-out can cost less than the relay's);
- **Node socket.io 4.8**: `bench/servers/node_server.mjs` (npm, installed into `bench/node_modules`);
- **Flask-SocketIO 5.3** on gevent with gevent-websocket: `bench/servers/flask_server.py` (Debian).

## How it is measured

`bench/run` builds the load generator and the C++ servers (Release, into `build/bench-release/`),
installs socket.io into `bench/node_modules` (`npm ci --prefix bench`), then, for each case,
repeat and server (interleaved: A B C A B C …), starts a fresh server pinned to core 0
(`taskset -c 0`) and runs `chat_loadgen` pinned to core 1.

`chat_loadgen` (`bench/loadgen.cpp`) is a single-threaded Asio program that speaks Engine.IO v4 /
Socket.IO v5 over WebSocket by hand (masked client frames, `2` answered with `3`). Each run connects
every client first, warms up, then measures a window; after the window it stops sending and waits
for everything in flight, so `lost` is exact. It reads the server's CPU time (utime+stime of
`/proc/PID/stat`) and its own at the window's edges, and the server's VmRSS/PSS.

- **Fan-out**: one client emits `42["message","<timestamp><padding>"]`, keeping K broadcasts in
  flight (it sends a new one each time it receives one of its own back); deliveries per second
  across all clients; latency of every delivery from its timestamp.
- **Echo**: every client emits `42<id>["echo","<timestamp><padding>"]` and waits for `43<id>[...]`
  (closed loop); acks per second, round-trip latency.
- **Fixed rate**: fan-out at a set delivery rate, open loop (each broadcast is stamped with its
  scheduled send time, so a late send counts as latency); a server whose fan-out maximum in this
  run is below the rate is not run at it. A second table runs each server at a share of its own
  maximum.
- **Idle**: N connections held with every ping answered; server memory per connection and how many
  are still connected at the end.

Payload bytes are the length of the string argument (a 16-digit timestamp, then padding); the
wire bytes are the same for every server.

### Reading the numbers

- A throughput is the server's maximum only when the server kept its core busy (CPU near 100%;
  figures below 90% are marked †). CPU µs per delivery (or ack) stays honest either way, and it is
  the figure to compare when the machine is shared or the generator is close to its limit.
- The generator is lean (one `recv` per readable socket, drained; one `send` per socket per wake-up;
  about 80% of its time is in the kernel), but on loopback its cost per delivery is the kernel's
  cost per TCP segment, like the server's: each segment the server writes is one `recv` here, plus
  the ACK it sends back. So it spends about 0.8–1.0× the relay's CPU per fan-out delivery, and a
  server that writes one frame per segment (Node) costs it about as much per delivery as it costs
  that server. Against the leanest servers the generator therefore runs at 70–90% of its core
  while the server is at 100%: the server is the limit, but not by much. Compare CPU µs/op.
- In the echo, every ack costs both sides one `recv` and one `send`, and on loopback each side
  also pays the kernel's receive work for the other's sends: the generator spends about 0.9× the
  relay's CPU per ack, so against the relay and chat the echo rate is bounded by the generator
  about as much as by the server.
- Closed-loop fan-out latency is queueing, not speed: with K broadcasts in flight to C clients
  it is about K × C / (deliveries per second) (Little's law). Latency proper comes from the
  fixed-rate tables.
- At a fixed rate, broadcasts are sparse (100,000 deliveries/s to 1000 clients is one broadcast
  every 10 ms), so nothing coalesces: each delivery is one `send()`, and a broadcast reaches its
  last client one thousand sends after its first.
- Loopback only; one server core; the kernel's TCP work for both ends is on this machine's two
  cores, charged to whichever process sends.

`bench/run --help` lists the knobs (clients, payload, in-flight, durations, repeats, servers,
cases); `bench/run --quick` is a smoke run of about two minutes. `bench/run` keeps whatever text
lies outside its generated block, so notes such as before/after figures of an optimisation can be
kept below it.

## Results

"""

DEFAULT_TAIL = "\n"


def write_chart(cfg, specs, summaries, png_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    keys = [s.key for s in specs]
    labels = {s.key: s.label for s in specs}
    colors = {"chat": "#1f77b4", "chat-python": "#17becf", "relay": "#7f7f7f", "node": "#2ca02c", "flask": "#d62728"}
    panels = [
        ("fanout", "ops_per_s", "Fan-out deliveries/s\n(%s clients, K=%d)" % (fmt_int(cfg.fanout_clients), cfg.inflight), 1, True),
        ("echo", "ops_per_s", "Echo acks/s\n(%s clients)" % fmt_int(cfg.echo_clients), 1, True),
        ("fanout", "cpu_us", "Server CPU µs per fan-out delivery\n(lower is better)", 1, True),
        ("echo", "cpu_us", "Server CPU µs per echo ack\n(lower is better)", 1, True),
        ("rate", "p99_us", "p99 latency, ms, at %s deliveries/s\n(lower is better)" % fmt_int(cfg.rate), 1000, True),
        ("idle", "rss_per_conn", "RSS per idle connection, KB\n(%s connections; lower is better)" % fmt_int(cfg.idle_clients), 1024, False),
    ]
    panels = [p for p in panels if p[0] in summaries]
    if not panels:
        return False
    cols_n = min(3, len(panels))
    rows_n = (len(panels) + cols_n - 1) // cols_n
    fig, axes = plt.subplots(rows_n, cols_n, figsize=(4.3 * cols_n, 4.0 * rows_n), squeeze=False)
    axes = [ax for row in axes for ax in row]
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax, (case, field, title, scale, log) in zip(axes, panels):
        names, values, cols = [], [], []
        for key in keys:
            s = summaries[case].get(key)
            if not s or s.get(field) is None:
                continue
            names.append(labels[key].replace(" (", "\n("))
            values.append(s[field] / scale)
            cols.append(colors.get(key, "#999999"))
        if not values:
            ax.set_visible(False)
            continue
        bars = ax.bar(range(len(values)), values, color=cols)
        if log and min(values) > 0 and max(values) / min(values) > 20:
            ax.set_yscale("log")
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels(names, fontsize=7, rotation=30, ha="right")
        ax.set_title(title, fontsize=9)
        for b, v in zip(bars, values):
            txt = "{:,.0f}".format(v) if v >= 100 else "{:.2g}".format(v) if v < 10 else "{:.0f}".format(v)
            ax.annotate(txt, (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=7)
        if ax.get_yscale() == "linear":
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "{:,.0f}".format(v)
                                                                         if v >= 10 else "{:g}".format(v)))
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("chat vs peers, one server core (medians%s)" % (" — quick smoke run" if cfg.quick else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return True


# ---- beyond one core: chat on 1 vs N shards ---------------------------------------------------


def shards_comparison(cfg, loadgen):
    """chat (C++) as a ShardedServer of each shard count in --shards, fan-out and echo, pinned
    (server on --server-core, generator on --gen-core: every shard shares the one core, so this
    shows what sharding costs) and unpinned (the kernel spreads the server's threads and the
    generator over every core). Prints a table, writes it (markdown) and the raw results; leaves
    docs/benchmarks.md alone (its "Beyond one core" section is written by hand from these)."""
    chat_bin = os.path.join(cfg.bin_dir, "chat_bench_server")
    if not os.access(chat_bin, os.X_OK):
        sys.exit("bench/run: %s is not built" % rel(chat_bin))
    counts = [int(n) for n in cfg.shards.split(",") if n.strip()]

    def spec(n, case):
        work = ["--handler-cpu-us", str(cfg.handler_cpu_us)] if case == "echo-work" else []
        return ServerSpec("chat-%d" % n, "chat (C++), %d shard%s" % (n, "" if n == 1 else "s"),
                          [chat_bin, "--shards", str(n)] + work, True)

    placements = [("pinned", True), ("unpinned", False)]
    # echo-work: the echo with each handler spending --handler-cpu-us of CPU first (an
    # application's own work per event), so that the server, not the generator, needs the cores.
    # rate: fan-out at --rate deliveries/s, open loop; with broadcasts this sparse each delivery is
    # one send(), so what sharding changes there is how soon a broadcast reaches its last client.
    cases = [c for c in ("fanout", "echo", "echo-work", "rate") if c in cfg.cases.split(",") or
             (c == "echo-work" and cfg.handler_cpu_us > 0)]
    raw_path = os.path.join(os.path.dirname(cfg.bin_dir), "shards.jsonl")
    # This machine is shared: a run during which the rest of the machine used more than
    # --max-other-cpu % of a core is kept in the raw file but left out of the table, and run again
    # (up to three times as many runs as asked for).
    results = {}
    discarded = {}
    with open(raw_path, "w") as raw:
        for rep in range(cfg.repeats):
            for placement, pinned in placements:
                for case in cases:
                    for n in counts:  # interleaved, so a drift of the machine hits every count alike
                        key = (placement, case, n)
                        attempts = 0
                        while True:
                            attempts += 1
                            r = measure(spec(n, case), "echo" if case == "echo-work" else case, cfg, loadgen,
                                        rate=cfg.rate if case == "rate" else None, pinned=pinned)
                            clean = r["other_cpu_pct"] <= cfg.max_other_cpu
                            r.update({"server": "chat-%d" % n, "case": case, "placement": placement, "shards": n,
                                      "repeat": rep, "clean": clean})
                            raw.write(json.dumps(r) + "\n")
                            raw.flush()
                            lat = r.get("latency_us", {})
                            print("  %-8s %-6s shards=%d #%d  %s/s  cpu %s µs/op  server %s%%  gen %s%%  other %s%%  "
                                  "p99 %s  lost %s%s%s" % (
                                      placement, case, n, rep + 1, fmt_int(r.get("ops_per_s")),
                                      fmt_f(r.get("server_cpu_us_per_op"), 2), fmt_f(r.get("server_cpu_pct"), 0),
                                      fmt_f(r.get("gen_cpu_pct"), 0), fmt_f(r["other_cpu_pct"], 0),
                                      fmt_us(lat.get("p99")), r.get("lost", "–"),
                                      ("  ERROR: " + str(r.get("error"))) if r.get("error") else "",
                                      "" if clean else "  (disturbed: run again)"), flush=True)
                            results.setdefault(key, []).append(r)
                            if clean:
                                break
                            discarded[key] = discarded.get(key, 0) + 1
                            if attempts >= 4:  # give up on this repeat rather than wait forever
                                break
    lines = ["| placement | case | shards | ops/s | range over repeats | vs 1 shard | CPU µs/op | server CPU | generator CPU | p50 | p99 | lost |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    def kept(key):
        """The clean runs, or every run if none was clean."""
        runs = results.get(key, [])
        return [r for r in runs if r["clean"]] or runs

    for placement, _ in placements:
        for case in cases:
            base = summarize(kept((placement, case, counts[0]))).get("ops_per_s")
            for n in counts:
                s = summarize(kept((placement, case, n)))
                if not s.get("ok_runs"):
                    lines.append("| %s | %s | %d | failed: %s |||||||||" % (placement, case, n, "; ".join(s.get("errors", []))))
                    continue
                ops = [r["ops_per_s"] for r in kept((placement, case, n)) if r.get("ops_per_s") is not None]
                lines.append("| %s | %s | %d | %s | %s–%s | %s | %s | %s%% | %s%% | %s | %s | %s |" % (
                    placement, case, n, fmt_int(s["ops_per_s"]), fmt_int(min(ops)), fmt_int(max(ops)),
                    fmt_ratio(s["ops_per_s"], base), fmt_f(s["cpu_us"], 2),
                    fmt_f(s["server_cpu_pct"], 0), fmt_f(s["gen_cpu_pct"], 0), fmt_us(s["p50_us"]), fmt_us(s["p99_us"]),
                    fmt_int(s["lost"])))
    table = "\n".join(lines)
    md_path = os.path.join(os.path.dirname(cfg.bin_dir), "shards.md")
    with open(md_path, "w") as f:
        f.write("Medians of up to %d repeats; fan-out %s clients (%d in flight), echo %s clients, rate: %s "
                "deliveries/s to %s clients (open loop); %s-byte payloads; "
                "echo-work: each echo handler spends %d µs of CPU first; warm-up %s s, window %s s. Server CPU is "
                "%% of one core (all threads). Runs during which the rest of the machine used more than %s%% of a "
                "core were run again and left out (%d such runs).\n\n%s\n" % (
                    cfg.repeats, fmt_int(cfg.fanout_clients), cfg.inflight, fmt_int(cfg.echo_clients),
                    fmt_int(cfg.rate), fmt_int(cfg.rate_clients), cfg.payload,
                    cfg.handler_cpu_us, fmt_f(cfg.warmup, 0), fmt_f(cfg.duration, 0), fmt_f(cfg.max_other_cpu, 0),
                    sum(discarded.values()), table))
    print(table)
    print("bench/run: wrote %s (raw results: %s)" % (rel(md_path), rel(raw_path)), flush=True)


class RunningRedis:
    """Debian's redis-server on a free port, no persistence, pinned to `core` (or not)."""

    def __init__(self, core):
        import socket as sockets
        probe = sockets.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        pin = [] if core is None else ["taskset", "-c", str(core)]
        self.proc = subprocess.Popen(pin + ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                            "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                sockets.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.02)
        self.url = "redis://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def cluster_comparison(cfg, loadgen):
    """Fan-out across a cluster: two server processes on one Redis, the clients dealt over both,
    one sender (on the first); chat (C++, chat::redis) against Node socket.io with
    @socket.io/redis-adapter, interleaved. The servers and Redis share --server-core, the generator
    has --gen-core; CPU per delivery counts both servers and Redis. Writes
    <bin-dir>/../cluster.md and cluster.jsonl; docs/benchmarks.md's "Cluster" section is written by
    hand from them."""
    chat_bin = os.path.join(cfg.bin_dir, "chat_bench_server")
    node = shutil.which("node")
    peers = [("chat", "chat (C++), chat::redis", [chat_bin]),
             ("node", "Node socket.io 4.8, @socket.io/redis-adapter 8.3",
              [node or "node", os.path.join(BENCH, "servers", "node_server.mjs")])]
    if not os.path.isdir(os.path.join(BENCH, "node_modules", "@socket.io", "redis-adapter")):
        sys.exit("bench/run: bench/node_modules/@socket.io/redis-adapter is missing (bench/run installs it)")
    raw_path = os.path.join(os.path.dirname(cfg.bin_dir), "cluster.jsonl")
    results = {}
    with open(raw_path, "w") as raw:
        for rep in range(cfg.repeats):
            for key, label, command in peers:
                busy0, children0, wall0 = busy_cpu_s(), children_cpu_s(), time.time()
                redis = RunningRedis(cfg.server_core)
                servers = []
                try:
                    for _ in range(2):
                        servers.append(RunningServer(ServerSpec(key, label, command + ["--redis", redis.url], True),
                                                     cfg.server_core))
                    time.sleep(0.5)  # both subscribed
                    pids = ",".join(str(p) for p in [s.pid for s in servers] + [redis.proc.pid])
                    ports = ",".join(str(s.port) for s in servers)
                    r = run_loadgen(loadgen, cfg.gen_core, ports, pids, case_args("fanout", cfg),
                                    60 + cfg.warmup + cfg.duration + 30)
                except RuntimeError as e:
                    r = {"error": str(e)}
                finally:
                    for s in servers:
                        s.stop()
                    redis.stop()
                other = (busy_cpu_s() - busy0) - (children_cpu_s() - children0)
                r.update({"server": key, "case": "cluster-fanout", "repeat": rep,
                          "other_cpu_pct": max(0.0, 100.0 * other / max(1e-9, time.time() - wall0))})
                raw.write(json.dumps(r) + "\n")
                raw.flush()
                results.setdefault(key, []).append(r)
                lat = r.get("latency_us", {})
                print("  %-5s cluster fan-out #%d  %s/s  cpu %s µs/delivery (servers + Redis)  p50 %s  p99 %s  lost %s%s" % (
                    key, rep + 1, fmt_int(r.get("ops_per_s")), fmt_f(r.get("server_cpu_us_per_op"), 2),
                    fmt_us(lat.get("p50")), fmt_us(lat.get("p99")), r.get("lost", "–"),
                    ("  ERROR: " + str(r.get("error"))) if r.get("error") else ""), flush=True)
    summaries = {key: summarize(rs) for key, rs in results.items()}
    node_ops = summaries.get("node", {}).get("ops_per_s")
    lines = ["| server | deliveries/s | vs Node | CPU µs/delivery (2 servers + Redis) | CPU (% of one core) | p50 | p99 | lost |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for key, label, _ in peers:
        s = summaries.get(key, {})
        if not s.get("ok_runs"):
            lines.append("| %s | failed: %s |||||||" % (label, "; ".join(s.get("errors", []))))
            continue
        lines.append("| %s | %s | %s | %s | %s%% | %s | %s | %s |" % (
            label, fmt_int(s["ops_per_s"]), fmt_ratio(s["ops_per_s"], node_ops), fmt_f(s["cpu_us"], 2),
            fmt_f(s["server_cpu_pct"], 0), fmt_us(s["p50_us"]), fmt_us(s["p99_us"]), fmt_int(s["lost"])))
    table = "\n".join(lines)
    md_path = os.path.join(os.path.dirname(cfg.bin_dir), "cluster.md")
    with open(md_path, "w") as f:
        f.write("Medians of %d repeats; fan-out to %s clients dealt over two server processes on one Redis (%d "
                "broadcasts in flight, one sender), %s-byte payloads, warm-up %s s, window %s s; the servers and Redis "
                "share core %d, the generator has core %d.\n\n%s\n" % (
                    cfg.repeats, fmt_int(cfg.fanout_clients), cfg.inflight, cfg.payload, fmt_f(cfg.warmup, 0),
                    fmt_f(cfg.duration, 0), cfg.server_core, cfg.gen_core, table))
    print(table)
    print("bench/run: wrote %s (raw results: %s)" % (rel(md_path), rel(raw_path)), flush=True)


def measure_variant(spec, case, cfg, loadgen, extra_args, tags, variant, raw, results):
    """One measured run of `case` against `spec`, for the side-by-side comparisons (TLS, msgpack):
    the generator gets `extra_args`; the result, tagged with `tags` (its `variant` names the column
    it belongs to), goes to `raw` (a JSON line) and to results[(case, server, variant)], and a line
    of it is printed."""
    busy0, children0, wall0 = busy_cpu_s(), children_cpu_s(), time.time()
    try:
        server = RunningServer(spec, cfg.server_core)
    except RuntimeError as e:
        r = {"error": str(e)}
    else:
        time.sleep(0.3)
        r = run_loadgen(loadgen, cfg.gen_core, server.port, server.pid, case_args(case, cfg) + extra_args,
                        60 + cfg.warmup + cfg.duration + 30)
        code, crashed = server.stop()
        if crashed:
            r["server_crashed"] = "exit code %s: %s" % (code, server.stderr_tail()[-500:])
    other = (busy_cpu_s() - busy0) - (children_cpu_s() - children0)
    r.update({"server": spec.key, "case": case, **tags,
              "other_cpu_pct": max(0.0, 100.0 * other / max(1e-9, time.time() - wall0))})
    raw.write(json.dumps(r) + "\n")
    raw.flush()
    results.setdefault((case, spec.key, variant), []).append(r)
    lat = r.get("latency_us", {})
    print("  %-5s %-6s %-7s #%d  %s/s  cpu %s µs/op  p50 %s  p99 %s  server %s%%  gen %s%%  lost %s%s" % (
        spec.key, case, variant, tags.get("repeat", 0) + 1, fmt_int(r.get("ops_per_s")),
        fmt_f(r.get("server_cpu_us_per_op"), 2), fmt_us(lat.get("p50")), fmt_us(lat.get("p99")),
        fmt_f(r.get("server_cpu_pct"), 0), fmt_f(r.get("gen_cpu_pct"), 0), r.get("lost", "–"),
        ("  ERROR: " + str(r.get("error") or r.get("server_crashed")))
        if r.get("error") or r.get("server_crashed") else ""), flush=True)


# ---- TLS: wss against Node's https server --------------------------------------------------------


def tls_comparison(cfg, loadgen):
    """Fan-out and echo over wss:// (TLS 1.3, as client and servers negotiate it): chat (C++,
    chat::Server<TlsConfig>) against Node socket.io on its https server, and both over plain ws://
    in the same run (what TLS costs each), interleaved. The certificate: a P-256 key, self-signed,
    made for the run (the generator does not verify it). Writes <bin-dir>/../tls.md and tls.jsonl;
    docs/benchmarks.md's "TLS" section is written by hand from them."""
    chat_bin = os.path.join(cfg.bin_dir, "chat_bench_server")
    node = shutil.which("node")
    peers = [("chat", "chat (C++)", [chat_bin]),
             ("node", "Node socket.io 4.8", [node or "node", os.path.join(BENCH, "servers", "node_server.mjs")])]
    out_dir = os.path.dirname(cfg.bin_dir)
    cert, key = os.path.join(out_dir, "tls-bench.pem"), os.path.join(out_dir, "tls-bench.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    tls_args = ["--tls-cert", cert, "--tls-key", key]
    raw_path = os.path.join(out_dir, "tls.jsonl")
    results = {}  # (case, key, scheme) -> [result]
    with open(raw_path, "w") as raw:
        for rep in range(cfg.repeats):
            for case in ("fanout", "echo"):
                for key, label, command in peers:
                    for scheme in ("wss", "ws"):
                        secure = scheme == "wss"
                        spec = ServerSpec(key, label, command + (tls_args if secure else []), True)
                        measure_variant(spec, case, cfg, loadgen, ["--tls"] if secure else [],
                                        {"scheme": scheme, "repeat": rep}, scheme, raw, results)
    summaries = {k: summarize(rs) for k, rs in results.items()}
    lines = ["| case | server | over | ops/s | vs Node (same transport) | TLS vs plain | CPU µs/op | CPU (% of one core) "
             "| p50 | p99 | lost |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for case, unit in (("fanout", "deliveries"), ("echo", "acks")):
        for key, label, _ in peers:
            for scheme in ("wss", "ws"):
                s = summaries.get((case, key, scheme), {})
                title = "%s (%s/s)" % (case, unit)
                if not s.get("ok_runs"):
                    lines.append("| %s | %s | %s | failed: %s |||||||" % (title, label, scheme, "; ".join(s.get("errors", []))))
                    continue
                node_ops = summaries.get((case, "node", scheme), {}).get("ops_per_s")
                plain_ops = summaries.get((case, key, "ws"), {}).get("ops_per_s")
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %s%% | %s | %s | %s |" % (
                    title, label, scheme, fmt_int(s["ops_per_s"]), fmt_ratio(s["ops_per_s"], node_ops),
                    fmt_ratio(s["ops_per_s"], plain_ops) if scheme == "wss" else "", fmt_f(s["cpu_us"], 2),
                    fmt_f(s["server_cpu_pct"], 0), fmt_us(s["p50_us"]), fmt_us(s["p99_us"]), fmt_int(s["lost"])))
    table = "\n".join(lines)
    md_path = os.path.join(out_dir, "tls.md")
    with open(md_path, "w") as f:
        f.write("Medians of %d repeats; fan-out to %s clients (%d broadcasts in flight, one sender), echo from %s "
                "clients (one in flight each), %s-byte payloads, warm-up %s s, window %s s; the server on core %d, the "
                "generator on core %d; OpenSSL %s for chat and the generator, Node %s with its own OpenSSL.\n\n%s\n" % (
                    cfg.repeats, fmt_int(cfg.fanout_clients), cfg.inflight, fmt_int(cfg.echo_clients), cfg.payload,
                    fmt_f(cfg.warmup, 0), fmt_f(cfg.duration, 0), cfg.server_core, cfg.gen_core,
                    subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1],
                    subprocess.run([node or "node", "-p", "process.versions.node + ' (OpenSSL ' + process.versions.openssl + ')'"],
                                   capture_output=True, text=True).stdout.strip(), table))
    print(table)
    print("bench/run: wrote %s (raw results: %s)" % (rel(md_path), rel(raw_path)), flush=True)


# ---- msgpack: socket.io-msgpack-parser against JSON -----------------------------------------------


def msgpack_comparison(cfg, loadgen):
    """Fan-out and echo in socket.io-msgpack-parser's format: chat (C++, chat::MsgpackParser)
    against Node socket.io with socket.io-msgpack-parser as its parser, and both with the default
    JSON parser in the same run (what the format costs or saves each), interleaved. Writes
    <bin-dir>/../msgpack.md and msgpack.jsonl; docs/benchmarks.md's "msgpack" section is written by
    hand from them."""
    chat_bin = os.path.join(cfg.bin_dir, "chat_bench_server")
    node = shutil.which("node")
    peers = [("chat", "chat (C++)", [chat_bin]),
             ("node", "Node socket.io 4.8", [node or "node", os.path.join(BENCH, "servers", "node_server.mjs")])]
    if not os.path.isdir(os.path.join(BENCH, "node_modules", "socket.io-msgpack-parser")):
        sys.exit("bench/run: bench/node_modules/socket.io-msgpack-parser is missing (bench/run installs it)")
    out_dir = os.path.dirname(cfg.bin_dir)
    raw_path = os.path.join(out_dir, "msgpack.jsonl")
    formats = ("msgpack", "json")
    results = {}  # (case, key, format) -> [result]
    with open(raw_path, "w") as raw:
        for rep in range(cfg.repeats):
            for case in ("fanout", "echo"):
                for key, label, command in peers:
                    for fmt in formats:
                        spec = ServerSpec(key, label, command + ["--parser", fmt], True)
                        measure_variant(spec, case, cfg, loadgen, ["--msgpack"] if fmt == "msgpack" else [],
                                        {"format": fmt, "repeat": rep}, fmt, raw, results)
    summaries = {k: summarize(rs) for k, rs in results.items()}
    lines = ["| case | server | parser | ops/s | vs Node (same parser) | msgpack vs JSON | CPU µs/op "
             "| CPU (% of one core) | p50 | p99 | lost |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for case, unit in (("fanout", "deliveries"), ("echo", "acks")):
        for key, label, _ in peers:
            for fmt in formats:
                s = summaries.get((case, key, fmt), {})
                title = "%s (%s/s)" % (case, unit)
                if not s.get("ok_runs"):
                    lines.append("| %s | %s | %s | failed: %s |||||||" % (title, label, fmt, "; ".join(s.get("errors", []))))
                    continue
                node_ops = summaries.get((case, "node", fmt), {}).get("ops_per_s")
                json_ops = summaries.get((case, key, "json"), {}).get("ops_per_s")
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %s%% | %s | %s | %s |" % (
                    title, label, fmt, fmt_int(s["ops_per_s"]), fmt_ratio(s["ops_per_s"], node_ops),
                    fmt_ratio(s["ops_per_s"], json_ops) if fmt == "msgpack" else "", fmt_f(s["cpu_us"], 2),
                    fmt_f(s["server_cpu_pct"], 0), fmt_us(s["p50_us"]), fmt_us(s["p99_us"]), fmt_int(s["lost"])))
    table = "\n".join(lines)
    md_path = os.path.join(out_dir, "msgpack.md")
    with open(md_path, "w") as f:
        f.write("Medians of %d repeats; fan-out to %s clients (%d broadcasts in flight, one sender), echo from %s "
                "clients (one in flight each), %s-byte payloads, warm-up %s s, window %s s; WebSocket; the server on "
                "core %d, the generator on core %d; Node %s with socket.io-msgpack-parser 3.0.2.\n\n%s\n" % (
                    cfg.repeats, fmt_int(cfg.fanout_clients), cfg.inflight, fmt_int(cfg.echo_clients), cfg.payload,
                    fmt_f(cfg.warmup, 0), fmt_f(cfg.duration, 0), cfg.server_core, cfg.gen_core,
                    subprocess.run([node or "node", "--version"], capture_output=True, text=True).stdout.strip(), table))
    print(table)
    print("bench/run: wrote %s (raw results: %s)" % (rel(md_path), rel(raw_path)), flush=True)


# ---- worker processes: Python servers on every core ------------------------------------------------


def children_of(pid):
    """The pids of a process's children (/proc/PID/task/*/children), [] when it is gone."""
    kids = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def proc_cpu_s(pid):
    """utime+stime of one process (all its threads) in seconds, None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def renice_session(pid, nice):
    """Sets the niceness of the scheduler's autogroup of `pid`'s session (Linux with
    sched_autogroup, where a process's own niceness only ranks it within its session: a server
    started in a session of its own competes with every other session, such as a build, as one
    equal group unless its group is reniced). Does nothing where there are no autogroups."""
    try:
        with open("/proc/%d/autogroup" % pid, "w") as f:
            f.write(str(nice))
    except FileNotFoundError:
        pass


class RunningWorkers:
    """A bench server with `count` worker processes (and, for chat with more than one, a Redis for
    its message queue), unpinned: up once its workers are. `pids` lists the supervisor (or
    gunicorn's master), the workers and Redis, whose CPU the load generator adds up."""

    def __init__(self, key, spec, count, handler_cpu_us, polling=False, nice=0):
        self.redis = None
        self.server = None
        command = list(spec.command) + ["--handler-cpu-us", str(handler_cpu_us)]
        if key == "chat-python":
            command += ["--workers", str(count)]
            if count > 1:
                self.redis = RunningRedis(None)
                command += ["--message-queue", self.redis.url]
        else:  # Flask-SocketIO under gunicorn, one worker or several, nothing in front
            command += ["--gunicorn-workers", str(count)] + (["--polling"] if polling else [])
        try:
            self.server = RunningServer(ServerSpec(key, spec.label, command, True), None)
            if nice:
                renice_session(self.server.pid, nice)
            deadline = time.time() + 20
            while len(children_of(self.server.pid)) < count:
                if time.time() > deadline or not self.server.alive():
                    raise RuntimeError("%s: %d of %d workers up after 20 s: %s" % (
                        key, len(children_of(self.server.pid)), count, self.server.stderr_tail() if
                        not self.server.alive() else ""))
                time.sleep(0.05)
            time.sleep(1.0)  # each worker imports the app and starts serving
        except Exception:
            self.stop()
            raise
        self.workers = children_of(self.server.pid)
        self.pids = [self.server.pid] + self.workers + ([self.redis.proc.pid] if self.redis else [])

    def worker_cpu_s(self):
        return [proc_cpu_s(pid) for pid in self.workers]

    def stop(self):
        """Stops the server and its workers; returns (exit code, crashed?) as RunningServer.stop."""
        result = (None, False)
        if self.server is not None:
            result = self.server.stop()
            try:  # a worker left behind (its supervisor was killed) goes with the process group
                os.killpg(self.server.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.redis is not None:
            self.redis.stop()
        return result


def workers_comparison(cfg, loadgen):
    """The echo with each handler spending --handler-cpu-us of Python CPU, from chat's Python
    package with socketio.run(workers=N) and from Flask-SocketIO under gunicorn with N
    gevent-websocket workers (nothing in front), for each N of --workers; unpinned (the servers'
    processes and the generator share every core). Then what breaks: bench/workers_check.py's
    python-socketio clients over polling, polling + upgrade and WebSocket, and a room broadcast.
    Writes <bin-dir>/../workers.md and workers.jsonl; docs/benchmarks.md's "Worker processes"
    section is written by hand from them."""
    counts = [int(n) for n in cfg.workers.split(",") if n.strip()]
    if not counts or min(counts) < 1:
        sys.exit("bench/run: --workers wants worker counts such as 1,2")
    specs = {s.key: s for s in server_specs(cfg.bin_dir)}
    peers = [("chat-python", "chat (Python handlers), run(workers=N)"),
             ("flask", "Flask-SocketIO 5.3 (gevent), gunicorn -w N")]
    for key, _ in peers:
        if not specs[key].available:
            sys.exit("bench/run: %s: %s" % (key, specs[key].note))
    if subprocess.run(["/usr/bin/python3", "-c", "import gunicorn, socketio"], capture_output=True).returncode:
        sys.exit("bench/run: python3-gunicorn or python3-socketio is missing (bench/run installs them)")
    if max(counts) > 1 and not shutil.which("redis-server"):
        sys.exit("bench/run: redis-server is missing (bench/run installs it)")
    out_dir = os.path.dirname(cfg.bin_dir)
    raw_path = os.path.join(out_dir, "workers.jsonl")
    results = {}  # (key, count) -> [result]
    checks = {}  # (key, count) -> workers_check.py's result
    with open(raw_path, "w") as raw:
        for rep in range(cfg.repeats):
            for key, label in peers:
                for n in counts:  # interleaved, so a drift of the machine hits every count alike
                    busy0, children0, wall0 = busy_cpu_s(), children_cpu_s(), time.time()
                    running = None
                    try:
                        running = RunningWorkers(key, specs[key], n, cfg.handler_cpu_us, nice=cfg.nice)
                        cpu0 = running.worker_cpu_s()
                        r = run_loadgen(loadgen, None, running.server.port, ",".join(str(p) for p in running.pids),
                                        case_args("echo", cfg), 60 + cfg.warmup + cfg.duration + 30)
                        cpu1 = running.worker_cpu_s()
                        r["worker_cpu_s"] = [None if a is None or b is None else round(b - a, 3)
                                             for a, b in zip(cpu0, cpu1)]
                    except RuntimeError as e:
                        r = {"error": str(e)}
                    finally:
                        if running is not None:
                            code, crashed = running.stop()
                            if crashed:
                                r["server_crashed"] = "exit code %s: %s" % (code, running.server.stderr_tail()[-500:])
                    other = (busy_cpu_s() - busy0) - (children_cpu_s() - children0)
                    r.update({"server": key, "workers": n, "case": "echo-work", "repeat": rep,
                              "handler_cpu_us": cfg.handler_cpu_us,
                              "other_cpu_pct": max(0.0, 100.0 * other / max(1e-9, time.time() - wall0))})
                    raw.write(json.dumps(r) + "\n")
                    raw.flush()
                    results.setdefault((key, n), []).append(r)
                    lat = r.get("latency_us", {})
                    print("  %-11s workers=%d #%d  %s acks/s  cpu %s µs/ack  server %s%%  gen %s%%  other %s%%  "
                          "p99 %s  per worker %s s  lost %s%s" % (
                              key, n, rep + 1, fmt_int(r.get("ops_per_s")), fmt_f(r.get("server_cpu_us_per_op"), 1),
                              fmt_f(r.get("server_cpu_pct"), 0), fmt_f(r.get("gen_cpu_pct"), 0),
                              fmt_f(r["other_cpu_pct"], 0), fmt_us(lat.get("p99")), r.get("worker_cpu_s"),
                              r.get("lost", "–"),
                              ("  ERROR: " + str(r.get("error") or r.get("server_crashed")))
                              if r.get("error") or r.get("server_crashed") else ""), flush=True)
        for key, _ in peers:
            for n in counts:
                running = None
                try:
                    running = RunningWorkers(key, specs[key], n, 0, polling=True, nice=cfg.nice)
                    out = subprocess.run(["/usr/bin/python3", os.path.join(BENCH, "workers_check.py"), "--port",
                                          str(running.server.port), "--clients", str(cfg.check_clients)],
                                         capture_output=True, text=True, timeout=300)
                    lines = out.stdout.strip().splitlines()
                    c = json.loads(lines[-1]) if lines else {"error": "no result (exit %d): %s" % (
                        out.returncode, out.stderr.strip()[-500:])}
                except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                    c = {"error": str(e)}
                finally:
                    if running is not None:
                        running.stop()
                c.update({"server": key, "workers": n, "case": "check"})
                raw.write(json.dumps(c) + "\n")
                raw.flush()
                checks[(key, n)] = c
                print("  %-11s workers=%d check: %s" % (key, n, json.dumps(c)), flush=True)

    lines = ["| server | workers | acks/s | range over repeats | vs 1 worker | CPU µs/ack (all processes) "
             "| server CPU | generator CPU | rest of the machine | p50 | p99 | lost |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, label in peers:
        base = summarize(results.get((key, counts[0]), [])).get("ops_per_s")
        for n in counts:
            runs = results.get((key, n), [])
            s = summarize(runs)
            if not s.get("ok_runs"):
                lines.append("| %s | %d | failed: %s |||||||||" % (label, n, "; ".join(s.get("errors", []))))
                continue
            ops = [r["ops_per_s"] for r in runs if r.get("ops_per_s") is not None]
            lines.append("| %s | %d | %s | %s–%s | %s | %s | %s%% | %s%% | %s%% | %s | %s | %s |" % (
                label, n, fmt_int(s["ops_per_s"]), fmt_int(min(ops)), fmt_int(max(ops)), fmt_ratio(s["ops_per_s"], base),
                fmt_f(s["cpu_us"], 1), fmt_f(s["server_cpu_pct"], 0), fmt_f(s["gen_cpu_pct"], 0),
                fmt_f(median([r["other_cpu_pct"] for r in runs]), 0), fmt_us(s["p50_us"]), fmt_us(s["p99_us"]),
                fmt_int(s["lost"])))
    lines += ["", "| server | workers | polling CONNECT on a new connection: ok | refused "
                  "| python-socketio, polling: connected / acked / held | polling + upgrade | WebSocket "
                  "| room broadcast reached (sender's worker) | (other workers) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, label in peers:
        for n in counts:
            c = checks.get((key, n), {})
            if c.get("error"):
                lines.append("| %s | %d | failed: %s ||||||||" % (label, n, c["error"]))
                continue
            cells = []
            for t in c["transports"]:
                cell = "%d / %d / %d of %d" % (t["connected"], t["acked"], t["held"], t["clients"])
                if t["errors"]:
                    cell += " (" + "; ".join("%s ×%d" % (e.replace("|", "/"), k) for e, k in t["errors"].items()) + ")"
                cells.append(cell)
            rooms, raw_polling = c["rooms"], c["raw_polling"]
            refused = "; ".join("%s ×%d" % (e.replace("|", "/"), k) for e, k in raw_polling["refused"].items())
            def reached(where):
                members = rooms.get("on_" + where)
                return "–" if not members else "%s of %s" % (rooms.get("reached_on_" + where), members)

            lines.append("| %s | %d | %d of %d | %s | %s | %s | %s | %s | %s |" % (
                label, n, raw_polling["ok"], raw_polling["sessions"], refused or "0", cells[0], cells[1], cells[2],
                reached("sender_worker"), reached("other_workers")))
    table = "\n".join(lines)
    md_path = os.path.join(out_dir, "workers.md")
    with open(md_path, "w") as f:
        f.write("Medians of %d repeats; echo from %s clients (one in flight each), each handler spinning %d µs of "
                "Python first, %s-byte payloads, warm-up %s s, window %s s; WebSocket; unpinned: the servers' "
                "processes, Redis (chat with more than one worker) and the generator share the machine's %d cores. "
                "CPU counts the supervisor (gunicorn's master), the workers and Redis; %% of one core.%s \"Rest of the "
                "machine\": what other processes used meanwhile. What breaks: %d polling sessions whose CONNECT "
                "POST goes on a new TCP connection; %d python-socketio clients per transport (connected / first ack "
                "/ 5 more acks over 2 s and still connected); a room broadcast to %d WebSocket clients.\n\n%s\n" % (
                    cfg.repeats, fmt_int(cfg.echo_clients), cfg.handler_cpu_us, cfg.payload, fmt_f(cfg.warmup, 0),
                    fmt_f(cfg.duration, 0), os.cpu_count() or 0,
                    " Every process of the benchmark ran at niceness %d." % cfg.nice if cfg.nice else "",
                    cfg.check_clients, cfg.check_clients, cfg.check_clients,
                    table))
    print(table)
    print("bench/run: wrote %s (raw results: %s)" % (rel(md_path), rel(raw_path)), flush=True)


# ---- main -------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: small sizes, short windows, one repeat (about two minutes)")
    p.add_argument("--servers", default="chat,chat-python,relay,node,flask",
                   help="comma-separated subset of chat,chat-python,relay,node,flask")
    p.add_argument("--cases", default="fanout,echo,rate,idle", help="comma-separated subset of fanout,echo,rate,idle")
    p.add_argument("--repeats", type=int, help="repeats of each case and server (default 3; quick 1)")
    p.add_argument("--warmup", type=float, help="warm-up seconds before each window (default 5; quick 1)")
    p.add_argument("--duration", type=float, help="measured seconds (default 10; quick 2)")
    p.add_argument("--payload", type=int, default=32, help="bytes of each message's string (default 32)")
    p.add_argument("--inflight", type=int, default=16, help="fan-out broadcasts in flight (default 16)")
    p.add_argument("--fanout-clients", type=int, help="default 1000; quick 200")
    p.add_argument("--echo-clients", type=int, help="default 50; quick 20")
    p.add_argument("--rate", type=float, help="fixed-rate deliveries/s (default 100000; quick 20000)")
    p.add_argument("--rate-clients", type=int, help="default 1000; quick 200")
    p.add_argument("--rate-fraction", type=float, default=0.5,
                   help="also run each server at this share of its own fan-out maximum (default 0.5; 0: off)")
    p.add_argument("--idle-clients", type=int, help="default 20000 (capped by the open-file limit); quick 2000")
    p.add_argument("--idle-hold", type=float, help="seconds the idle connections are held (default 30; quick 3)")
    p.add_argument("--idle-settle", type=float, help="seconds after connecting before measuring (default 3; quick 1)")
    p.add_argument("--server-core", type=int, default=0)
    p.add_argument("--gen-core", type=int, default=1)
    p.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bench-release", "bench"),
                   help="where chat_loadgen and the C++ servers are (bench/run builds them there)")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    p.add_argument("--chart", default=os.path.join(ROOT, "docs", "benchmarks.png"))
    p.add_argument("--raw", default=None, help="JSON lines of every run (default: <bin-dir>/../results.jsonl)")
    p.add_argument("--shards", default=None, metavar="N,M,...",
                   help="instead of the peer comparison: chat (C++) as a ShardedServer of each of these shard "
                        "counts (e.g. 1,2), fan-out, echo and fixed rate, pinned and unpinned; writes <bin-dir>/../shards.md "
                        "and shards.jsonl, not docs/benchmarks.md")
    p.add_argument("--cluster", action="store_true",
                   help="instead of the peer comparison: fan-out across two server processes on one Redis, chat "
                        "against Node with @socket.io/redis-adapter; writes <bin-dir>/../cluster.md and cluster.jsonl")
    p.add_argument("--tls", action="store_true",
                   help="instead of the peer comparison: fan-out and echo over wss, chat against Node's https server, "
                        "and both over ws in the same run (by default 2 repeats, warm-up 2 s, window 5 s: about three "
                        "minutes); writes <bin-dir>/../tls.md and tls.jsonl")
    p.add_argument("--msgpack", action="store_true",
                   help="instead of the peer comparison: fan-out and echo with socket.io-msgpack-parser's format, "
                        "chat against Node socket.io with that parser, and both with JSON in the same run (by default "
                        "2 repeats, warm-up 2 s, window 5 s: about three minutes); writes <bin-dir>/../msgpack.md and "
                        "msgpack.jsonl")
    p.add_argument("--workers", default=None, metavar="N,M,...",
                   help="instead of the peer comparison: the echo with --handler-cpu-us handlers from chat's Python "
                        "package with socketio.run(workers=N) and from Flask-SocketIO under gunicorn with N workers, "
                        "for each count (e.g. 1,2), unpinned, and what breaks (polling, upgrade, rooms) with "
                        "python-socketio's client (by default 3 repeats, warm-up 2 s, window 5 s: about four "
                        "minutes); writes <bin-dir>/../workers.md and workers.jsonl")
    p.add_argument("--check-clients", type=int, default=20,
                   help="with --workers: python-socketio clients per transport in the what-breaks check (default 20)")
    p.add_argument("--handler-cpu-us", type=int, default=50,
                   help="with --shards (as one more case) or --workers: the echo with each handler spending this "
                        "many µs of CPU first (an application's own work; default 50; 0: off)")
    p.add_argument("--max-other-cpu", type=float, default=10.0,
                   help="with --shards: run again a run during which the rest of the machine used more than this "
                        "%% of one core (default 10)")
    p.add_argument("--nice", type=int, default=0,
                   help="run the generator and Redis at this niceness, and with --workers the servers' sessions too "
                        "(their scheduler autogroups; e.g. -10, as root: ahead of other work on a shared machine; the "
                        "report says so); default 0")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing: rewrite the report and chart from the --raw file of an earlier run "
                        "(give the same size options as that run)")
    cfg = p.parse_args(argv)
    q = cfg.quick
    if (cfg.tls or cfg.msgpack or cfg.workers) and not q:  # bounded: a few minutes in all
        for name, value in (("repeats", 3 if cfg.workers else 2), ("warmup", 2), ("duration", 5)):
            if getattr(cfg, name) is None:
                setattr(cfg, name, value)
    defaults = dict(repeats=(1, 3), warmup=(1, 5), duration=(2, 10), fanout_clients=(200, 1000), echo_clients=(20, 50),
                    rate=(20000, 100000), rate_clients=(200, 1000), idle_clients=(2000, 20000), idle_hold=(3, 30),
                    idle_settle=(1, 3))
    for name, (quick, full) in defaults.items():
        if getattr(cfg, name) is None:
            setattr(cfg, name, quick if q else full)
    cfg.raw_path = cfg.raw or os.path.join(os.path.dirname(cfg.bin_dir), "results.jsonl")
    cfg.argv = argv
    return cfg


def main(argv):
    cfg = parse_args(argv)
    started = datetime.datetime.utcnow()
    t0 = time.time()
    loadgen = os.path.join(cfg.bin_dir, "chat_loadgen")
    if not os.access(loadgen, os.X_OK):
        sys.exit("bench/run: %s is not built (run bench/run, which builds it)" % rel(loadgen))
    if os.cpu_count() and max(cfg.server_core, cfg.gen_core) >= os.cpu_count():
        sys.exit("bench/run: cores %d and %d do not exist here" % (cfg.server_core, cfg.gen_core))

    if cfg.nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, cfg.nice)  # inherited by every process started from here
            renice_session(os.getpid(), cfg.nice)  # the generator's and Redis's session
        except PermissionError:
            sys.exit("bench/run: --nice %d needs root (a negative niceness)" % cfg.nice)
    if cfg.shards:
        shards_comparison(cfg, loadgen)
        return
    if cfg.cluster:
        cluster_comparison(cfg, loadgen)
        return
    if cfg.tls:
        tls_comparison(cfg, loadgen)
        return
    if cfg.msgpack:
        msgpack_comparison(cfg, loadgen)
        return
    if cfg.workers:
        workers_comparison(cfg, loadgen)
        return

    notes = []
    # Open files: the server and the generator each hold one per connection.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = cfg.idle_clients + 200
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, want), hard))
    except (ValueError, OSError):
        pass
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if "idle" in cfg.cases and soft != resource.RLIM_INFINITY and soft < want:
        capped = max(100, soft - 200)
        notes.append("Idle: %s connections asked for, but the open-file limit here is %d (ulimit -n, hard), so %s were "
                     "used. Raise the hard limit (as root with CAP_SYS_RESOURCE, or in limits.conf) for the full count."
                     % (fmt_int(cfg.idle_clients), soft, fmt_int(capped)))
        cfg.idle_clients = capped

    specs_all = server_specs(cfg.bin_dir)
    wanted = [k.strip() for k in cfg.servers.split(",") if k.strip()]
    specs = [s for s in specs_all if s.key in wanted]
    runnable = [s for s in specs if s.available]
    for s in specs:
        if not s.available:
            print("bench/run: skipping %s: %s" % (s.label, s.note), flush=True)
    cases = [c.strip() for c in cfg.cases.split(",") if c.strip()]

    results = {}  # case -> key -> [result]
    if cfg.report_only:
        summaries = {}
        with open(cfg.raw_path) as f:
            for line in f:
                r = json.loads(line)
                results.setdefault(r["case"], {}).setdefault(r["server"], []).append(r)
        for case in ("fanout", "echo", "rate", "rate-own", "idle"):
            if case in results:
                summaries[case] = {key: summarize(rs) for key, rs in results[case].items()}
        for case in ("rate", "rate-own"):
            if case in summaries:
                for spec in runnable:
                    fan = summaries.get("fanout", {}).get(spec.key)
                    if spec.key not in summaries[case] and fan:
                        summaries[case][spec.key] = {"skipped": "not run: its fan-out maximum here, %s/s, is below "
                                                                "this rate" % fmt_int(fan.get("ops_per_s"))}
        finish_report(cfg, specs, summaries, notes, time.time() - t0, started)
        return

    os.makedirs(os.path.dirname(cfg.raw_path), exist_ok=True)
    raw_file = open(cfg.raw_path, "w")

    def record(case, spec, result, rep):
        result["server"] = spec.key
        result["case"] = case
        result["repeat"] = rep
        raw_file.write(json.dumps(result) + "\n")
        raw_file.flush()
        results.setdefault(case, {}).setdefault(spec.key, []).append(result)
        lat = result.get("latency_us", {})
        print("  %-11s %-8s #%d  %s/s  cpu %s µs/op  p50 %s  p99 %s  server %s%%  gen %s%%  lost %s%s" % (
            spec.key, case, rep + 1, fmt_int(result.get("ops_per_s")), fmt_f(result.get("server_cpu_us_per_op"), 2),
            fmt_us(lat.get("p50")), fmt_us(lat.get("p99")), fmt_f(result.get("server_cpu_pct"), 0),
            fmt_f(result.get("gen_cpu_pct"), 0), result.get("lost", "–"),
            ("  idle: %s/%s held, %s B/conn, pings %s" % (result.get("still_connected"), result.get("connected"),
                                                          fmt_int(result.get("rss_per_conn_bytes")),
                                                          result.get("pings_answered")) if case == "idle" else "")
            + ("  ERROR: " + str(result.get("error")) if result.get("error") else "")
            + ("  SERVER CRASHED: " + result["server_crashed"] if result.get("server_crashed") else "")), flush=True)

    summaries = {}
    for case in cases:
        if case == "rate":
            sub_cases = [("rate", None)]
            if cfg.rate_fraction > 0:
                sub_cases.append(("rate-own", cfg.rate_fraction))
        else:
            sub_cases = [(case, None)]
        for sub, fraction in sub_cases:
            print("== %s" % CASE_TITLES[sub], flush=True)
            repeats = 1 if sub == "idle" and not cfg.quick and cfg.repeats > 1 and cfg.idle_hold >= 25 else cfg.repeats
            summaries[sub] = {}
            rates = {}
            for spec in runnable:
                fan = summaries.get("fanout", {}).get(spec.key)
                fan_max = fan.get("ops_per_s") if fan else None
                if sub == "rate":
                    if fan_max is not None and fan_max < cfg.rate * 1.1 and cfg.fanout_clients == cfg.rate_clients:
                        summaries[sub][spec.key] = {"skipped": "not run: its fan-out maximum here, %s/s, is below "
                                                               "this rate" % fmt_int(fan_max)}
                        continue
                    rates[spec.key] = cfg.rate
                else:
                    if sub == "rate-own":
                        if fan_max is None:
                            summaries[sub][spec.key] = {"skipped": "not run: no fan-out maximum measured"}
                            continue
                        rates[spec.key] = round(fan_max * fraction)
            for rep in range(repeats):
                for spec in runnable:
                    if sub in ("rate", "rate-own") and spec.key not in rates:
                        continue
                    result = measure(spec, sub, cfg, loadgen, rates.get(spec.key))
                    record(sub, spec, result, rep)
            for spec in runnable:
                if spec.key in results.get(sub, {}):
                    summaries[sub][spec.key] = summarize(results[sub][spec.key])
    raw_file.close()
    finish_report(cfg, specs, summaries, notes, time.time() - t0, started)


def finish_report(cfg, specs, summaries, notes, elapsed, started):
    png = cfg.chart
    try:
        if not write_chart(cfg, specs, summaries, png):
            png = None
    except ImportError:
        notes.append("No chart: matplotlib is missing (Debian: python3-matplotlib).")
        png = None
    write_report(cfg, specs, summaries, notes, cfg.out, png, started, elapsed)
    print("bench/run: wrote %s%s (raw results: %s)" % (rel(cfg.out), (" and " + rel(png)) if png else "",
                                                      rel(cfg.raw_path)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
