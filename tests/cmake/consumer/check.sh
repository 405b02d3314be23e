#!/bin/sh
# Runs the consumers, and checks that those using only chat::chat or chat::compiled link neither
# SQLite, OpenSSL nor hiredis: the store, TLS and the Redis cluster are optional.
set -e
./consumer
./serve_consumer
./store_consumer
./redis_consumer
./tls_consumer
./compiled_consumer
./compiled_tls_consumer
for program in consumer compiled_consumer; do
  if ldd ./$program | grep -q sqlite; then
    echo "$program links SQLite, but chat::chat and chat::compiled must not need it" >&2
    exit 1
  fi
  if ldd ./$program | grep -q hiredis; then
    echo "$program links hiredis, but chat::chat and chat::compiled must not need it" >&2
    exit 1
  fi
  if ldd ./$program | grep -q -e libssl -e libcrypto; then
    echo "$program links OpenSSL, but chat::chat and chat::compiled must not need it" >&2
    exit 1
  fi
done
