#!/usr/bin/env bash
# Longer runs of the property tests that fuzz the parser, binder and
# evaluator, row and JSONB decoding and webhook bodies. CI runs each with a
# few hundred to a few thousand cases; this runs them with many more.
#
#   scripts/fuzz.sh            # 100,000 cases each
#   PROPTEST_CASES=1000000 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${PROPTEST_CASES:-100000}"
cargo test --release -p rivulet-sql --test fuzz
cargo test --release -p rivulet-expr --test fuzz
cargo test --release -p rivulet-webhook fuzz
cargo test --release -p rivulet-stream --test fuzz
