#!/bin/bash
# The whole test suite: Rust unit tests, then the Perl tests under t/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# The other perls of the last stage (below) are built meanwhile, one at a
# time and niced, when not cached: the Perl tests leave a core idle most of
# the time, and a fresh machine would otherwise wait for them at the end.
other_perls=(5.26.3 5.40.1 5.36.0-unthreaded)
skip_perls=${MEMPROF_SKIP_PERLS:-${MEMPROF_SKIP_UNTHREADED:-}}
if [ -z "$skip_perls" ]; then
    mkdir -p target/perl-matrix
    (
        for p in "${other_perls[@]}"; do
            args=("${p%-unthreaded}")
            [ "$p" = "${p%-unthreaded}" ] || args+=(--unthreaded)
            nice -n 10 bash scripts/perl-build.sh "${args[@]}" || true
        done
    ) >/dev/null 2>target/perl-matrix/prebuild.log &
    prebuild=$!
fi
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
if [ -z "$skip_perls" ]; then
    # A failed build is tried again, and reported, by the matrix.
    wait "$prebuild" || true
    bash scripts/perl-matrix.sh "${other_perls[@]}"
fi
