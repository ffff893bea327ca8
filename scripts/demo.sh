#!/bin/bash
# Build Devel::MemProf and profile the demo script: flame graphs in
# flamegraphs/ and a summary on the terminal.  Also regenerates the
# README's example (flamegraphs/demo-*.svg and flamegraphs/demo-report.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked
target/release/memprof run -o flamegraphs/demo.out examples/demo.pl
target/release/memprof report --format markdown flamegraphs/demo.out > flamegraphs/demo-report.md
