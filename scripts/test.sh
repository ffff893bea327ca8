#!/bin/bash
# The whole test suite: Rust unit tests, then the Perl tests under t/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked
cargo test --release --locked
# The browser test's node modules (playwright-core, which drives the system
# chromium and downloads no browser), when missing or older than the lock.
if [ ! -e t/browser/node_modules/.package-lock.json ] ||
    [ t/browser/package-lock.json -nt t/browser/node_modules/.package-lock.json ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix t/browser --no-audit --no-fund
fi
prove -r t/
# The same library built against a perl without threads, whose structures
# and interpreter variables are laid out differently (issue 8).  Set
# MEMPROF_SKIP_UNTHREADED=1 to leave it out of a quick run.
if [ -z "${MEMPROF_SKIP_UNTHREADED:-}" ]; then
    unthreaded=$(bash scripts/unthreaded-perl.sh)
    PERL=$unthreaded CARGO_TARGET_DIR=target/nothreads cargo build --release --locked
    PERL=$unthreaded MEMPROF_BIN="$PWD/target/nothreads/release/memprof" \
        prove t/10-seed-examples.t t/11-independent-count.t t/31-bad-input.t t/40-sites.t t/41-measure.t t/60-processes.t \
        t/80-memory-ok.t t/81-no-leaks.t t/83-measure-lines.t
fi
