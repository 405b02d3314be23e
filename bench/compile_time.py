"""Compile time of a program using chat, against a bare websocketpp server, in one run.

    /usr/bin/python3 bench/compile_time.py [--repeats N] [--compiler g++] [--write docs/benchmarks.md]

Each translation unit is compiled with -O0 (what an edit-compile loop uses) N times (default 5),
the units taking turns; the table gives the median CPU time (user + system, of the compiler and its children) and the peak memory,
and each row's ratio to the bare websocketpp TU. The units:

- bare websocketpp: a websocketpp echo server (websocketpp and Asio, nothing of chat);
- websocketpp + JSON: the same, parsing and dumping nlohmann::json (the floor of any Socket.IO
  server built on these two);
- the README's C++ quick start (read from README.md), header-only: one file, everything;
- the same program with CHAT_SEPARATE_COMPILATION: the file that runs the server, a file that
  only registers the hooks (tests/separate/handlers.cpp), and chat/src.hpp, the file compiled
  once for the program (src/chat.cpp, chat::compiled's source).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK_BEGIN = "<!-- bench/compile_time.py: results begin (generated) -->"
MARK_END = "<!-- bench/compile_time.py: results end -->"

BARE = r"""
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

int main() {
  using Server = websocketpp::server<websocketpp::config::asio>;
  Server server;
  server.init_asio();
  server.set_message_handler([&server](websocketpp::connection_hdl hdl, Server::message_ptr message) {
    server.send(hdl, message->get_payload(), message->get_opcode());
  });
  server.listen(5000);
  server.start_accept();
  server.run();
}
"""

FLOOR = r"""
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>
#include <nlohmann/json.hpp>

int main() {
  using Server = websocketpp::server<websocketpp::config::asio>;
  Server server;
  server.init_asio();
  server.set_message_handler([&server](websocketpp::connection_hdl hdl, Server::message_ptr message) {
    auto value = nlohmann::json::parse(message->get_payload(), nullptr, false);
    server.send(hdl, value.dump(), message->get_opcode());
  });
  server.listen(5000);
  server.start_accept();
  server.run();
}
"""

SEPARATE_SERVER = r"""
#include <chat/chat.hpp>

void register_hooks(chat::Server<>& io);

int main() {
  chat::Server<> io(chat::Options{}.cors_allowed_origins({"*"}));
  register_hooks(io);
  io.serve_static("web/");
  io.listen("127.0.0.1", 5000);
  io.run();
}
"""


def repository_file(path):
    """A file of this repository, read as it is: the units below are the ones the tests build."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def quick_start():
    readme = repository_file("README.md")
    match = re.search(r"## C\+\+ quick start[^`]*```cpp\n(.*?)```", readme, re.S)
    if not match:
        sys.exit("compile_time: README.md has no ```cpp block under '## C++ quick start'")
    return match.group(1)


def compile_once(compiler, source, flags, workdir):
    """Compiles `source` once: (CPU seconds, wall seconds, peak memory in KiB) of the compiler
    and the processes it ran (wait4 reports them together)."""
    path = os.path.join(workdir, "unit.cpp")
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    started = time.monotonic()
    process = subprocess.Popen([compiler, "-std=c++17", "-O0", "-c", path, "-o", os.path.join(workdir, "unit.o"), *flags],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if process.returncode != 0:
        sys.exit("compile_time: the unit did not compile:\n" + source + "\n" + stderr.decode()[-4000:])
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss


def measure(compiler, repeats):
    include = os.path.join(ROOT, "include")
    base = ["-I" + include, "-DASIO_STANDALONE", "-D_WEBSOCKETPP_CPP11_STL_"]
    separate = base + ["-DCHAT_SEPARATE_COMPILATION"]
    units = [
        ("bare websocketpp server", BARE, base),
        ("websocketpp + nlohmann::json parse/dump (the floor)", FLOOR, base),
        ("README quick start, header-only (one file)", quick_start(), base),
        ("separate: the file that runs the server", SEPARATE_SERVER, separate),
        # tests/separate/handlers.cpp: the hooks of the quick start, checked by a test to include
        # neither Asio nor websocketpp; src/chat.cpp: chat::compiled's one source file.
        ("separate: a file that only registers hooks", repository_file("tests/separate/handlers.cpp"), separate),
        ("separate: chat/src.hpp (compiled once)", repository_file("src/chat.cpp"), separate),
    ]
    # Interleaved (every unit once per round): this machine's speed drifts, and a drift then
    # weighs on every unit alike.
    results = {label: ([], [], []) for label, _, _ in units}
    for round_ in range(repeats):
        for label, source, flags in units:
            with tempfile.TemporaryDirectory() as workdir:
                cpu, wall, peak = compile_once(compiler, source, flags, workdir)
            for values, value in zip(results[label], (cpu, wall, peak)):
                values.append(value)
            print("round %d  %-55s cpu %6.2f s  wall %6.2f s  peak %4d MB" % (round_ + 1, label, cpu, wall, peak // 1024),
                  file=sys.stderr, flush=True)
    return [(label, statistics.median(results[label][0]), statistics.median(results[label][1]), max(results[label][2]))
            for label, _, _ in units]


def report(rows, compiler, repeats):
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    bare = rows[0][1]
    lines = [MARK_BEGIN, "",
             "Generated by `bench/compile_time.py` on %s: %s, -O0, the median of %d compilations each "
             "(CPU is user + system time of the compiler)." % (time.strftime("%Y-%m-%d"), version, repeats), "",
             "| translation unit | CPU | vs bare websocketpp | peak memory |", "|---|---:|---:|---:|"]
    for label, cpu, _wall, peak in rows:
        lines.append("| %s | %.2f s | %.2f× | %d MB |" % (label, cpu, cpu / bare, peak // 1024))
    lines += ["", MARK_END]
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compiler", default="g++")
    parser.add_argument("--write", metavar="FILE", help="replace the generated block of FILE (docs/benchmarks.md)")
    args = parser.parse_args(argv)
    rows = measure(args.compiler, args.repeats)
    text = report(rows, args.compiler, args.repeats)
    print(text)
    if args.write:
        with open(args.write, encoding="utf-8") as f:
            doc = f.read()
        if MARK_BEGIN in doc and MARK_END in doc:
            doc = doc[:doc.index(MARK_BEGIN)] + text + doc[doc.index(MARK_END) + len(MARK_END):]
        else:
            doc = doc.rstrip("\n") + "\n\n## Compile time\n\n" + text + "\n"
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(doc)


if __name__ == "__main__":
    main(sys.argv[1:])
