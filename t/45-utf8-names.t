# Names under `use utf8` come out as written (issue 14): perl keeps a name
# whose characters all fit in a byte as Latin-1 (ünïcødé_sub) and others as
# UTF-8 (Ωmega_sub); both must reach the report, the JSON and the HTML.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Encode qw(decode_utf8 encode_utf8);
use File::Temp qw(tempdir);
use Test::More;

# The test names hold the names themselves.
binmode Test::More->builder->$_, ':encoding(UTF-8)' for qw(output failure_output todo_output);

my $dir    = tempdir( CLEANUP => 1 );
my $script = "$dir/names.pl";
open my $fh, '>:encoding(UTF-8)', $script or die $!;
print {$fh} <<'PERL';
use utf8;
package Ünï;
sub ünïcødé_sub { my @a = map { [$_] } 1 .. 2000; return scalar @a }
sub Ωmega_sub { my @a = map { [$_] } 1 .. 2000; return scalar @a }
package main;
print Ünï::ünïcødé_sub() + Ünï::Ωmega_sub(), "\n";
PERL
close $fh;

my ( $p, $out, $err, $status, $file ) = profile_script($script);
is( $status, 0, 'the script ran' ) or diag $err;
for my $name ( 'Ünï::ünïcødé_sub', 'Ünï::Ωmega_sub' ) {
    # MemProfTest decodes the JSON as bytes: its strings are UTF-8 encoded.
    ok( ( grep { decode_utf8( $_->{name} ) eq $name } @{ $p->{subs} } ), "JSON: $name" );
    my ($report) = run_capture( [ memprof_bin(), 'report', $file ] );
    like( decode_utf8($report), qr/\Q$name\E/, "report: $name" );
}
my ( undef, $herr, $hstatus ) = run_capture( [ memprof_bin(), 'html', '-o', "$dir/html", $file ] );
is( $hstatus, 0, 'memprof html ran' ) or diag $herr;
my $index = decode_utf8( slurp("$dir/html/index.html") );
like( $index, qr/Ünï::ünïcødé_sub/, 'HTML: the Latin-1 name' );
like( $index, qr/Ünï::Ωmega_sub/,   'HTML: the UTF-8 name' );
unlike( $index, qr/\x{FFFD}/, 'HTML: no replacement characters' );
done_testing;
