# Builds the extension chat._core (pybind11) from python/src/bindings.cpp and the headers in
# include/. Metadata lives in pyproject.toml. The C++ dependencies are Debian's (or any system's)
# libasio-dev, libwebsocketpp-dev, nlohmann-json3-dev and libsqlite3-dev (the message store, chat.store);
# no header is installed with the wheel.
from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

core = Pybind11Extension(
    "chat._core",
    ["python/src/bindings.cpp", "python/src/store_bindings.cpp"],
    include_dirs=["include"],
    define_macros=[("ASIO_STANDALONE", None), ("_WEBSOCKETPP_CPP11_STL_", None)],
    libraries=["sqlite3"],
    cxx_std=17,
    extra_compile_args=["-O2", "-g0"],
)

setup(ext_modules=[core], cmdclass={"build_ext": build_ext})
