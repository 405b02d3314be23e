# Builds the extension chat._core (pybind11) from python/src/bindings.cpp and the headers in
# include/. Metadata lives in pyproject.toml. The C++ dependencies are Debian's (or any system's)
# libasio-dev, libwebsocketpp-dev and nlohmann-json3-dev; no header is installed with the wheel.
from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

core = Pybind11Extension(
    "chat._core",
    ["python/src/bindings.cpp"],
    include_dirs=["include"],
    define_macros=[("ASIO_STANDALONE", None), ("_WEBSOCKETPP_CPP11_STL_", None)],
    cxx_std=17,
    extra_compile_args=["-O2", "-g0"],
)

setup(ext_modules=[core], cmdclass={"build_ext": build_ext})
