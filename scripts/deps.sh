#!/bin/bash
# Install what building and testing Devel::MemProf needs on Debian or
# Ubuntu: a C compiler, libclang for bindgen, perl's headers, and the
# programs the tests compare against or drive (go tool pprof reads the
# pprof export in t/72-export.t; MEMPROF=native=1 loads libunwind, and
# t/73-native.t profiles XML::LibXML and JSON::XS with it; the heap snapshot
# tests compare with Devel::Size and Devel::MAT).  Rust (cargo) must already be there.
set -euo pipefail

packages=(
    build-essential libclang-dev libperl-dev perl
    libjson-xs-perl libxml-parser-perl libmoose-perl heaptrack time
    libdevel-nytprof-perl perltidy libperl-critic-perl libtest-leaktrace-perl
    chromium curl xz-utils golang-go starman libplack-perl libmojolicious-perl
    libunwind8 libxml-libxml-perl libdevel-size-perl libdevel-mat-perl
)
# t/50-html.t opens the HTML report in chromium, driven from node.  A node
# that brought its own npm (NodeSource's) must not get Debian's npm.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
    echo "cargo is not installed: install Rust from https://rustup.rs (or your distribution) and run this again" >&2
    exit 1
fi
