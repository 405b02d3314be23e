# Builds the extension chat._core (pybind11) from python/src/ and the headers in include/.
# Metadata lives in pyproject.toml; the version is read from include/chat/version.hpp, and the
# build facts shared with CMake (definitions, the newest Asio) from cmake/chatBuildFacts.txt.
# The C++ dependencies are Debian's (or any system's) libasio-dev, libwebsocketpp-dev,
# nlohmann-json3-dev, zlib1g-dev (HTTP and WebSocket compression), libsqlite3-dev (the message
# store, chat.store), libhiredis-dev (the message queue, SocketIO(message_queue="redis://..."))
# libcrypt-dev (bcrypt, for the Admin UI) and, when found, libssl-dev (TLS in SocketIO.run); no header is installed
# with the wheel.
import glob
import os
import re
import sysconfig

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(path):
    with open(os.path.join(HERE, path), encoding="utf-8") as f:
        return f.read()


def version():
    parts = dict(re.findall(r"#define CHAT_VERSION_(MAJOR|MINOR|PATCH) (\d+)", read("include/chat/version.hpp")))
    return "%s.%s.%s" % (parts["MAJOR"], parts["MINOR"], parts["PATCH"])


def facts():
    found = {}
    for line in read("cmake/chatBuildFacts.txt").splitlines():
        if line and not line.startswith("#"):
            name, value = line.split(" ", 1)
            found[name] = value
    return found


def system_include_dirs():
    """Where the compiler looks for system headers by default (and CPATH)."""
    candidates = [sysconfig.get_paths().get("include", ""), "/usr/include", "/usr/local/include"]
    return [d for d in candidates + os.environ.get("CPATH", "").split(os.pathsep) if d]


def check_asio(below):
    """Refuses an Asio websocketpp cannot build with, as CMake does, before compiling anything."""
    for directory in system_include_dirs():
        header = os.path.join(directory, "asio", "version.hpp")
        if os.path.isfile(header):
            found = int(re.search(r"#define ASIO_VERSION (\d+)", read(header)).group(1))
            if found >= below:
                raise SystemExit("chat: Asio %d is too new for websocketpp 0.8.2; use Asio below 1.33" % found)
            return
    # Not found where it is usually installed: the compiler will say if it is missing.


FACTS = facts()
check_asio(int(FACTS["asio-version-below"]))
# TLS (run(certfile=..., keyfile=...)) needs OpenSSL's headers (Debian: libssl-dev); without them
# the package builds as before and run() refuses TLS, saying why.
TLS = any(os.path.isfile(os.path.join(d, "openssl", "ssl.h")) for d in system_include_dirs())

core = Pybind11Extension(
    "chat._core",
    # chat's own bodies compile once (src/chat.cpp, chat::compiled's source); the bindings include
    # its declarations only.
    ["python/src/module.cpp", "python/src/server_bindings.cpp", "python/src/store_bindings.cpp",
     "python/src/redis_bindings.cpp", "python/src/workers_bindings.cpp", "src/chat.cpp"],
    include_dirs=["include"],
    # setuptools rebuilds what is older than these too, not only than its .cpp: a build after a
    # header changed must not reuse objects (or the extension) made before.
    depends=sorted(glob.glob("include/**/*.hpp", recursive=True) + glob.glob("python/src/*.hpp")),
    define_macros=[(FACTS["asio-definition"], None), (FACTS["websocketpp-definition"], None),
                   ("CHAT_SEPARATE_COMPILATION", None)] + ([("CHAT_PYTHON_TLS", None)] if TLS else []),
    libraries=["sqlite3", "hiredis", "z", "crypt"] + (["ssl", "crypto"] if TLS else []),
    cxx_std=17,
    # -O3, as the CMake Release build of the C++ benchmark server: at -O2 the io thread spent
    # about 6% more CPU per fan-out delivery.
    extra_compile_args=["-O3", "-g0"],
)

setup(version=version(), ext_modules=[core], cmdclass={"build_ext": build_ext})
