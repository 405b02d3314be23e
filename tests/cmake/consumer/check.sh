#!/bin/sh
# Runs the consumers, and checks that the one using only chat::chat does not link SQLite: the
# store is optional.
set -e
./consumer
./store_consumer
if ldd ./consumer | grep -q sqlite; then
  echo "consumer links SQLite, but chat::chat must not need it" >&2
  exit 1
fi
