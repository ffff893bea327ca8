#!/bin/bash
# A perl without threads (no ithreads, no MULTIPLICITY): Debian's perl
# 5.36.0, built once by scripts/perl-build.sh into its cache outside the
# clone.  Prints the perl's path.
set -euo pipefail
exec bash "$(dirname "$0")/perl-build.sh" 5.36.0 --unthreaded
