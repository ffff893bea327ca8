#!/bin/bash
# Build a perl without threads (no ithreads, no MULTIPLICITY) from Debian's
# source of perl 5.36.0, into target/perl-nothreads, once.  The test suite
# builds Devel::MemProf against it to check that the bindings and the glue
# follow the target perl's configuration (issue 8).  Prints the perl's path.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$PWD/target/perl-nothreads"
if [ -x "$prefix/bin/perl" ]; then
    echo "$prefix/bin/perl"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The tarball is Debian's, from the archive apt itself uses.
url=http://deb.debian.org/debian/pool/main/p/perl/perl_5.36.0.orig.tar.xz
sha=0f386dccbee8e26286404b2cca144e1005be65477979beb9b1ba272d4819bcf0
curl -sSf -o "$work/perl.tar.xz" "$url"
echo "$sha  $work/perl.tar.xz" | sha256sum -c --quiet
tar -xJf "$work/perl.tar.xz" -C "$work"
cd "$work"/perl-5.36.0
sh Configure -des -Dprefix="$prefix" -Uusethreads -Uusemultiplicity \
    -Dman1dir=none -Dman3dir=none -Duseshrplib=false >"$work/configure.log" 2>&1 ||
    { tail -30 "$work/configure.log"; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log"; exit 1; }
make install >"$work/install.log" 2>&1 || { tail -30 "$work/install.log"; exit 1; }
echo "$prefix/bin/perl"
