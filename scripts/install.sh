#!/bin/bash
# Make plain `perl -d:MemProf` work everywhere: install Devel/MemProf.pm and
# auto/Devel/MemProf/MemProf.so into perl's site directories, and the
# memprof command into /usr/local/bin (or PREFIX/bin).
#   bash scripts/install.sh            # needs root for the system perl
#   PREFIX=$HOME/.local bash scripts/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
perl=${PERL:-perl}
cargo build --release --locked
if [ -n "${PREFIX:-}" ]; then
    lib="$PREFIX/lib/perl5"
    arch="$lib"
    bin="$PREFIX/bin"
else
    lib=$("$perl" -MConfig -e 'print $Config{installsitelib}')
    arch=$("$perl" -MConfig -e 'print $Config{installsitearch}')
    bin=/usr/local/bin
fi
install -D -m 644 lib/Devel/MemProf.pm "$lib/Devel/MemProf.pm"
install -D -m 755 target/release/libdevel_memprof.so "$arch/auto/Devel/MemProf/MemProf.so"
install -D -m 755 target/release/memprof "$bin/memprof"
# memprof run looks for the library beside its executable.
install -D -m 755 target/release/libdevel_memprof.so "$bin/libdevel_memprof.so"
echo "Installed Devel::MemProf into $lib and $arch, memprof into $bin"
if [ -n "${PREFIX:-}" ]; then
    echo "Add $lib to PERL5LIB to use perl -d:MemProf"
fi
