#!/bin/bash
# Build Devel::MemProf and profile the demo script: flame graphs in
# flamegraphs/ and a summary on the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked
target/release/memprof run -o flamegraphs/demo.out examples/demo.pl
