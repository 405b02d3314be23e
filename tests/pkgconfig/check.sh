#!/bin/sh
# Builds programs against an installed chat with pkg-config alone (no CMake) and runs them:
# the server answers a handshake and serves the browser bundle installed with chat (serve.cpp),
# the store module links SQLite (store.cpp), and every module file resolves.
# Usage: check.sh PREFIX PKGCONFIG_DIR SOURCE_DIR WORK_DIR
set -eu
prefix=$1 pc_dir=$2 sources=$3 work=$4
mkdir -p "$work"
PKG_CONFIG_PATH="$prefix/$pc_dir"
export PKG_CONFIG_PATH
cxx=${CXX:-g++}

for module in chat chat-compiled chat-store chat-tls chat-redis; do
  pkg-config --print-errors --exists "$module"
  echo "$module: $(pkg-config --modversion "$module"): $(pkg-config --cflags --libs "$module")"
done

bundle=$(pkg-config --variable=client_bundle_dir chat)
# The header-only library, as a non-CMake build would use it.
# shellcheck disable=SC2046 # pkg-config's output is meant to be split into flags
"$cxx" -o "$work/serve" "$sources/serve.cpp" -DCHAT_CLIENT_BUNDLE_DIR="\"$bundle\"" \
  -DEXPECTED_BUNDLE_DIR="\"$bundle\"" $(pkg-config --cflags --libs chat)
"$work/serve"
# shellcheck disable=SC2046
"$cxx" -o "$work/store" "$sources/store.cpp" $(pkg-config --cflags --libs chat-store)
"$work/store"
