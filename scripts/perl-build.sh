#!/bin/bash
# Build perl VERSION (threaded, or unthreaded with --unthreaded) into a cache
# directory outside the clone, once, and print the path of its bin/perl on
# stdout.  The test suite and scripts/perl-matrix.sh build Devel::MemProf
# against these perls: the layouts of perl's structures differ between
# versions and between threaded and unthreaded builds (issues 8 and 12).
#
#   bash scripts/perl-build.sh 5.40.1 [--unthreaded]
#
# The cache is ${MEMPROF_PERL_CACHE:-~/.cache/devel-memprof/perls}; each perl
# lives in perl-VERSION-{threaded,unthreaded}-SHA, SHA being the first 12 hex
# digits of its source tarball's sha256, so a different tarball is a
# different perl.  A perl counts as built only once `make install` has
# succeeded (the .memprof-built marker): a killed build is redone.
#
# Sources, each checked against a known sha256 before use:
#  - 5.32.1, 5.36.0, 5.40.1: Debian's orig tarballs from deb.debian.org, the
#    archive apt uses (sha256 pinned below, as in Debian's .dsc files);
#  - 5.26.3, 5.30.3, 5.34.3, 5.38.2, or any other version: the local source
#    directory $MEMPROF_PERL_SRC (default: shared/perl-src beside the clone),
#    holding perl-VERSION.tar.xz and a SHA256SUMS that lists it.
# Logs go to the build directory (the tail of a failing step's log is
# printed on stderr).
set -euo pipefail

usage() {
    echo "usage: $0 VERSION [--unthreaded]" >&2
    exit 2
}
version=""
threading=threaded
for arg in "$@"; do
    case $arg in
    --unthreaded) threading=unthreaded ;;
    --threaded) threading=threaded ;;
    -*) usage ;;
    *) [ -z "$version" ] || usage; version=$arg ;;
    esac
done
[[ $version =~ ^5\.[0-9]+\.[0-9]+$ ]] || usage

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${MEMPROF_PERL_CACHE:-$HOME/.cache/devel-memprof/perls}
src_dir=${MEMPROF_PERL_SRC:-$(dirname "$repo")/shared/perl-src}
mkdir -p "$cache"

# Debian's orig tarballs; the sha256 is the one in Debian's .dsc files
# (perl_5.32.1-4+deb11u3, perl_5.36.0-7+deb12u3, perl_5.40.1-6).
debian_sha=""
case $version in
5.32.1) debian_sha=57cc47c735c8300a8ce2fa0643507b44c4ae59012bfdad0121313db639e02309 ;;
5.36.0) debian_sha=0f386dccbee8e26286404b2cca144e1005be65477979beb9b1ba272d4819bcf0 ;;
5.40.1) debian_sha=dfa20c2eef2b4af133525610bbb65dd13777ecf998c9c5b1ccf0d308e732ee3f ;;
esac

if [ -n "$debian_sha" ]; then
    sha=$debian_sha
    tarball="$cache/src/perl_$version.orig.tar.xz"
    if [ ! -e "$tarball" ]; then
        mkdir -p "$cache/src"
        url="http://deb.debian.org/debian/pool/main/p/perl/perl_$version.orig.tar.xz"
        echo "perl-build: downloading $url" >&2
        curl -sSf -o "$tarball.part" "$url"
        mv "$tarball.part" "$tarball"
    fi
else
    tarball="$src_dir/perl-$version.tar.xz"
    sums="$src_dir/SHA256SUMS"
    if [ ! -e "$tarball" ] || [ ! -e "$sums" ]; then
        echo "perl-build: no source for perl $version: $tarball and $sums are needed (set MEMPROF_PERL_SRC)" >&2
        exit 1
    fi
    sha=$(awk -v f="perl-$version.tar.xz" '$2 == f || $2 == "*" f { print $1 }' "$sums")
    if [ -z "$sha" ]; then
        echo "perl-build: $sums does not list perl-$version.tar.xz" >&2
        exit 1
    fi
fi
if ! echo "$sha  $tarball" | sha256sum -c --quiet >/dev/null 2>&1; then
    echo "perl-build: $tarball does not match its sha256 $sha" >&2
    # A bad download is not kept; a bad local file is left for its owner.
    [ -z "$debian_sha" ] || rm -f "$tarball"
    exit 1
fi

prefix="$cache/perl-$version-$threading-${sha:0:12}"
marker="$prefix/.memprof-built"
# One build of a given perl at a time (the matrix and the test suite may
# both ask for it); the lock is released when this script exits.
exec 9>"$prefix.lock"
flock 9
if [ -e "$marker" ] && [ -x "$prefix/bin/perl" ]; then
    echo "$prefix/bin/perl"
    exit 0
fi

rm -rf "$prefix"
work="$cache/build-$version-$threading.$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
echo "perl-build: building perl $version ($threading) into $prefix (logs in $work)" >&2
start=$(date +%s)
tar -xJf "$tarball" -C "$work"
cd "$work/perl-$version"

if [ "$threading" = threaded ]; then
    threads=(-Dusethreads)
else
    threads=(-Uusethreads -Uusemultiplicity)
fi
step() {
    local log="$work/$1.log"
    shift
    if ! "$@" >"$log" 2>&1; then
        cp "$log" "$prefix.$(basename "$log")"
        echo "perl-build: perl $version ($threading): '$*' failed; the end of its log ($prefix.$(basename "$log")):" >&2
        tail -40 "$log" >&2
        exit 1
    fi
}
step configure sh Configure -des -Dprefix="$prefix" "${threads[@]}" \
    -Dman1dir=none -Dman3dir=none -Duseshrplib=false
step make make -j"$(nproc)"
step install make install
echo "build_seconds=$(($(date +%s) - start))" >"$marker"
echo "perl-build: perl $version ($threading) built in $(($(date +%s) - start)) s" >&2
echo "$prefix/bin/perl"
