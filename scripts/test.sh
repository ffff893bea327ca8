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
# The same library built against other perls, whose structures and
# interpreter variables are laid out differently (issues 8 and 12): the
# oldest supported, the newest, and one without threads; each runs the
# per-perl test set (scripts/perl-matrix.sh runs them all).  The perls are
# built once into a cache outside the clone.  Set MEMPROF_SKIP_PERLS=1 to
# leave this stage out of a quick run.
if [ -z "${MEMPROF_SKIP_PERLS:-${MEMPROF_SKIP_UNTHREADED:-}}" ]; then
    bash scripts/perl-matrix.sh 5.26.3 5.40.1 5.36.0-unthreaded
fi
