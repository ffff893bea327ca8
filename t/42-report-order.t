# The report answers "what is holding memory, and what made it peak"
# first (issue 14): a program that builds and drops a 300 MB temporary
# while keeping 10 MB is reported by the line that keeps the 10 MB, not
# by the temporary that came and went.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

# Sections of a text report: paragraphs after the heading and totals.
sub sections {
    my ($report) = @_;
    my @paras = split /\n\n/, $report;
    return @paras[ 2 .. $#paras ];
}

sub first_row {
    my ($section) = @_;
    my ( undef, $row ) = split /\n/, $section;
    return $row // '';
}

subtest 'a big temporary and a small cache' => sub {
    my ( undef, undef, undef, $status, $file ) = profile_code( <<'PERL', no_json => 1 );
our @keep;
sub work {
    my @big = map { "z" x 100_000 } 1 .. $_[0];
    push @keep, "k" x 1000 for 1 .. 10_000;
    undef @big;
}
work(3000);
PERL
    is( $status, 0, 'the program ran' );
    my ($report) = run_capture( [ memprof_bin(), 'report', $file ] );
    my @s = sections($report);
    like( $s[0], qr/\AStill held at exit, by the line that allocated it:/, 'the first section is what was held at exit' );
    like( first_row( $s[0] ), qr/t\.pl:4  push \@keep/, 'and its first line keeps the 10 MB' )
        or diag $report;
    like( $s[1], qr/\ALive at the heap's peak/, 'then what was live at the peak' );
    like( first_row( $s[1] ), qr/t\.pl:3  my \@big/, 'which the temporary made' );
    like( $s[2], qr/\ALines that allocated most/, 'then gross allocations' );
    like( $report, qr/^Where memory went up, by sub/m, 'net growth comes last' );
    like( $report, qr/^ +\+2\d\d MiB  \S*t\.pl:3 .*\(allocated 2\d\d MiB, freed [\d.]+ KiB here\)$/m,
        'a net figure comes with what the line allocated and freed itself: the temporary was freed at another line' );

    my ($md) = run_capture( [ memprof_bin(), 'report', '--format', 'markdown', $file ] );
    my ($first_table_row) = $md =~ /^\| line \| still held at exit \|.*\n\|[-:|]+\|\n(\|[^\n]*)/m;
    like( $first_table_row // '', qr/^\| \S*t\.pl:4 \|/, 'the Markdown report leads with the same line' ) or diag $md;
};

subtest 'the demo' => sub {
    my ( undef, undef, undef, $status, $file ) = profile_script( repo_root() . '/examples/demo.pl', no_json => 1 );
    is( $status, 0, 'the demo ran' );
    my ($report) = run_capture( [ memprof_bin(), 'report', $file ] );
    my @s = sections($report);
    like( $s[0], qr/\AStill held at exit/, 'the first section is what was held at exit' );
    like( first_row( $s[0] ), qr/demo\.pl:(20|21|31)  .*\[main::(parse_lines|remember_users)\]/,
        'led by a line that keeps the records or the cache' ) or diag $s[0];
};

subtest 'without site tracking it says so and leads with allocations' => sub {
    my ( undef, undef, undef, undef, $file ) = profile_code( "my \@a = map { [\$_] } 1 .. 1000;\n",
        no_json => 1, env => { MEMPROF => 'sites=0' } );
    my ($report) = run_capture( [ memprof_bin(), 'report', $file ] );
    my @s = sections($report);
    like( $s[0], qr/\ASite tracking was off \(MEMPROF=sites=0\)/, 'it says what it cannot tell' );
    like( $s[1], qr/\ALines that allocated most/, 'and leads with allocations' );
};

done_testing;
