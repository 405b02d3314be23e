#!/bin/sh
# Runs the consumers, and checks that the one using only chat::chat links neither SQLite nor
# OpenSSL: the store and TLS are optional.
set -e
./consumer
./store_consumer
./tls_consumer
if ldd ./consumer | grep -q sqlite; then
  echo "consumer links SQLite, but chat::chat must not need it" >&2
  exit 1
fi
if ldd ./consumer | grep -q -e libssl -e libcrypto; then
  echo "consumer links OpenSSL, but chat::chat must not need it" >&2
  exit 1
fi
