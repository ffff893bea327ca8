#!/bin/bash
# Rewrite MANIFEST from the files git tracks (and the new ones it does not
# ignore), less what MANIFEST.SKIP leaves out; t/71-docs.t checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
perl -e '
open my $s, "<", "MANIFEST.SKIP" or die "MANIFEST.SKIP: $!";
my @skip = grep { length && !/^#/ } map { chomp; $_ } <$s>;
my @files = grep { my $f = $_; -e $f && !grep { $f =~ /$_/ } @skip }
    map { chomp; $_ } `git ls-files --cached --others --exclude-standard`;
my %seen;
open my $m, ">", "MANIFEST" or die "MANIFEST: $!";
print $m "$_\n" for sort grep { !$seen{$_}++ } @files;
'
