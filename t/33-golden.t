# Golden files, as inferno keeps them: t/golden/demo.out is a committed
# profile (written once by `memprof run -q --no-render -o demo.out demo.pl`
# in t/golden, and never rewritten by this test), and t/golden/expected/
# holds what report, report --format markdown, csv, folded and json --pretty
# make of it, normalised (pids, times, paths).  Any change to an output
# fails here until it is blessed deliberately:
#
#     MEMPROF_BLESS=1 prove t/33-golden.t
#
# rewrites the expected files from the current memprof; review the diff.
# The profile also pins the file format: it was written in format version
# 1, and every later memprof must still read it (or refuse it with the
# upgrade message, which would fail here and be a deliberate change).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my $bin     = memprof_bin();
my $golden  = "$FindBin::Bin/golden";
my $profile = "$golden/demo.out";
my $bless   = $ENV{MEMPROF_BLESS};

my $bytes = slurp($profile);
is( substr( $bytes, 0, 8 ), "MEMPROF\0", 'the golden profile is a profile' );
is( unpack( 'V', substr( $bytes, 8, 4 ) ), 1, 'written in format version 1' );

my @outputs = (
    [ 'report.txt',         'report' ],
    [ 'report.md',          'report', '--format', 'markdown' ],
    [ 'csv-line.csv',       'csv', '--by', 'line' ],
    [ 'csv-sub.csv',        'csv', '--by', 'sub' ],
    [ 'csv-stack.csv',      'csv', '--by', 'stack' ],
    ( map { [ "folded-$_.txt", 'folded', '--metric', $_ ] } qw(net alloc retained peak) ),
    [ 'json-pretty.json',   'json', '--pretty' ],
);

# What varies between two runs of demo.pl, or two checkouts: pids, times
# and durations, absolute paths.
sub normalise {
    my ($text) = @_;
    $text =~ s/\(perl ([^,]+), pid \d+, [\d.]+ m?s\)/(perl $1, pid PID, TIME)/g;
    $text =~ s/"(pid|ppid)": \d+/"$1": 0/g;
    $text =~ s/"(start_time|end_time|time)": [-+.\deE]+/"$1": 0/g;
    $text =~ s{"-I[^"]*perl-lib"}{"-I<perl-lib>"}g;
    $text =~ s{"/[^"]*/t/golden/}{"<dir>/t/golden/}g;
    return $text;
}

mkdir "$golden/expected" if $bless && !-d "$golden/expected";
for my $o (@outputs) {
    my ( $name, @args ) = @$o;
    my ( $out, $err, $status ) = run_capture( [ $bin, @args, $profile ] );
    is( $status, 0, "memprof @args reads the golden profile" ) or diag $err;
    my $got  = normalise($out);
    my $file = "$golden/expected/$name";
    if ($bless) {
        write_file( $file, $got );
        pass("blessed $name");
        next;
    }
    my $want = -e $file ? slurp($file) : '';
    if ( $got eq $want ) {
        pass("memprof @args gives t/golden/expected/$name");
        next;
    }
    fail("memprof @args gives t/golden/expected/$name");
    my @g = split /\n/, $got, -1;
    my @w = split /\n/, $want, -1;
    my ($i) = grep { !defined $g[$_] || !defined $w[$_] || $g[$_] ne $w[$_] } 0 .. ( @g > @w ? $#g : $#w );
    diag "first difference at line " . ( $i + 1 ) . ":\n  want: " . ( $w[$i] // '(end)' ) . "\n  got:  " . ( $g[$i] // '(end)' );
    diag "if the change is meant, bless it: MEMPROF_BLESS=1 prove t/33-golden.t";
}

done_testing;
