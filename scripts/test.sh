#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need
# (PostgreSQL 15 as the oracle, psql), then runs formatting, lints, docs,
# unit tests and the end-to-end tests against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "==> cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "==> build the server the end-to-end tests run"
cargo build -p rivulet-server
echo "==> cargo test"
cargo test --workspace "$@" -- --skip hostile_
echo "==> the hostile-input corpus against the release binary"
cargo build --release -p rivulet-server
RIVULET_BIN="$PWD/target/release/rivulet" cargo test -p rivulet-tests --test hostile "$@"
