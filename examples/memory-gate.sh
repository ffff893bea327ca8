#!/bin/bash
# A memory gate for pull requests: profile a workload, compare it with the
# baseline profile kept from the main branch, write the comparison as
# Markdown for a pull-request comment, and fail when the memory still held
# at exit grew by more than a budget (in the run, or at any one line).
#
#   examples/memory-gate.sh BASELINE.out SCRIPT [ARGS...]
#
# Environment: MEMPROF_GATE_BYTES (the budget, default 1048576 bytes),
# MEMPROF_GATE_METRIC (retained, peak, net or alloc; default retained),
# MEMPROF_GATE_OUT (this run's profile, default memprof-pr.out),
# MEMPROF_GATE_MD (the comment, default memory-diff.md).
# Exit status: 0 within budget, 1 over it, 2 a profile could not be read,
# else the workload's own failure.
set -uo pipefail
if (($# < 2)); then
    echo "usage: $0 BASELINE.out SCRIPT [ARGS...]" >&2
    exit 2
fi
baseline=$1
shift
out=${MEMPROF_GATE_OUT:-memprof-pr.out}
md=${MEMPROF_GATE_MD:-memory-diff.md}
memprof run -q --no-render -o "$out" -- "$@" || exit $?
memprof diff --format markdown --fail-over "${MEMPROF_GATE_BYTES:-1048576}" \
    --fail-over-metric "${MEMPROF_GATE_METRIC:-retained}" "$baseline" "$out" >"$md"
status=$?
case $status in
0) echo "memory gate: within budget; comparison in $md" >&2 ;;
1) echo "memory gate: over budget; comparison in $md" >&2 ;;
esac
exit $status
