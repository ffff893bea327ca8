#!/bin/bash
# The whole test suite: Rust unit tests, then the Perl tests under t/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked
cargo test --release --locked
prove -r t/
