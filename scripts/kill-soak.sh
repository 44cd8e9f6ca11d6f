#!/usr/bin/env bash
# Runs the kill -9 property test (twenty kills under concurrent load per
# run) with many seeds: each run kills the server twenty times and checks
# every view, every acknowledged event and batch, and the catalog after
# each restart.
#
#   scripts/kill-soak.sh        # 10 runs, 200 kills
#   RUNS=100 scripts/kill-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p rivulet-server
export RIVULET_BIN="$PWD/target/release/rivulet"
for i in $(seq 1 "${RUNS:-10}"); do
    seed=$(( (i * 2654435761 + 12345) % 4294967296 ))
    echo "==> run $i, seed $seed"
    KILL_PROPERTY_SEED=$seed cargo test --release -p rivulet-tests --test kill_property -- --nocapture 2>&1 \
        | grep -E "^verified|test result|panicked|assert"
done
