#!/bin/bash
# The support matrix (issue 12): build (or reuse) each perl, build
# Devel::MemProf against it, run the per-perl test set with that build, and
# print a table of versions and results.  Exits non-zero if anything failed.
#
#   bash scripts/perl-matrix.sh                       # every supported perl
#   bash scripts/perl-matrix.sh 5.26.3 5.36.0-unthreaded   # some of them
#
# A perl is VERSION (threaded) or VERSION-unthreaded.  The system perl is
# used for its own version and threading; the others come from
# scripts/perl-build.sh, cached outside the clone.  Each gets its own cargo
# target directory, target/perl-VERSION-{threaded,unthreaded}.
set -uo pipefail
cd "$(dirname "$0")/.."

all=(5.26.3 5.30.3 5.32.1 5.34.3 5.36.0 5.38.2 5.40.1 5.36.0-unthreaded 5.40.1-unthreaded)
# Seed examples, the heaptrack cross-check, the transparency corpus with
# conservation (also with native frames), bad input, sites, measure,
# processes, threads, heap snapshots: what depends on perl's internals.  (The renderers, HTML and
# install tests don't.)
tests=(t/10-seed-examples.t t/11-independent-count.t t/12-frames.t t/14-frame-cache.t t/20-corpus.t t/22-inc-and-env.t
    t/31-bad-input.t t/40-sites.t t/41-measure.t t/45-utf8-names.t t/46-compile-lines.t t/60-processes.t
    t/73-native.t t/80-memory-ok.t t/81-no-leaks.t t/83-measure-lines.t t/49-threads.t t/74-heap-snapshots.t
    t/77-heap-corpus.t)
if (($#)); then specs=("$@"); else specs=("${all[@]}"); fi

system_perl=$(command -v perl)
system_id=$(perl -MConfig -e 'print "$Config{version}-", ($Config{usethreads} ? "threaded" : "unthreaded")')
logs="target/perl-matrix"
mkdir -p "$logs"

rows=()
failed=0
for spec in "${specs[@]}"; do
    version=${spec%-unthreaded}
    threading=threaded
    [ "$spec" = "$version" ] || threading=unthreaded
    name="perl-$version-$threading"
    log="$logs/$name.log"
    : >"$log"
    echo "perl-matrix: $version $threading" >&2
    result=FAIL passed=0 nfailed=0 built="-" lib="-" ttime="-"
    if [ "$version-$threading" = "$system_id" ]; then
        perl=$system_perl
        built="system"
    else
        args=("$version")
        [ "$threading" = threaded ] || args+=(--unthreaded)
        start=$(date +%s)
        if perl=$(bash scripts/perl-build.sh "${args[@]}" 2>>"$log"); then
            # The time of the build itself, also when it was built earlier.
            secs=$(sed -n 's/^build_seconds=//p' "$(dirname "$(dirname "$perl")")/.memprof-built")
            if (($(date +%s) - start > 5)); then built="${secs}s"; else built="${secs}s (cached)"; fi
        else
            perl=""
            built="failed"
        fi
    fi
    if [ -n "$perl" ]; then
        start=$(date +%s)
        if PERL=$perl CARGO_TARGET_DIR="target/$name" cargo build --release --locked >>"$log" 2>&1; then
            lib="$(($(date +%s) - start))s"
            start=$(date +%s)
            PERL=$perl MEMPROF_TEST_THREAD_SECONDS=0.3 MEMPROF_BIN="$PWD/target/$name/release/memprof" prove "${tests[@]}" >"$logs/$name.prove" 2>&1
            status=$?
            ttime="$(($(date +%s) - start))s"
            cat "$logs/$name.prove" >>"$log"
            total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$logs/$name.prove")
            nfailed=$(grep -o 'Failed: [0-9]*' "$logs/$name.prove" | awk '{ n += $2 } END { print n + 0 }')
            passed=$((${total:-0} - nfailed))
            if [ "$status" -eq 0 ]; then result=pass; fi
        else
            lib="failed"
        fi
    fi
    [ "$result" = pass ] || { failed=1; echo "perl-matrix: $version $threading failed; see $log" >&2; tail -25 "$log" >&2; }
    rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$version" "$threading" "$built" "$lib" "$ttime" \
        "$passed" "$nfailed" "$result")")
done

echo "| perl | threads | perl build | library build | tests time | tests passed | failed | result |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${rows[@]}"
exit "$failed"
