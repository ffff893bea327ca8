# Golden outputs of the ledger (issue 16): t/golden/ledger.out was written
# once (`memprof run -q --no-render -o ledger.out ledger.pl` in t/golden,
# profile format version 5) and is never rewritten here; t/golden/expected/
# holds what memprof heap, report and diff --heap make of it.  A change to
# these outputs fails until blessed deliberately:
#
#     MEMPROF_BLESS=1 prove t/87-ledger-golden.t
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my $golden  = "$FindBin::Bin/golden";
my $profile = "$golden/ledger.out";
my $bless   = $ENV{MEMPROF_BLESS};

is( unpack( 'V', substr( slurp($profile), 8, 4 ) ), 5, 'written in format version 5' );

my @outputs = (
    [ 'ledger-heap.txt',            'heap', '--top', '3' ],
    [ 'ledger-heap-fragmented.txt', 'heap', '--top', '3', '--snapshot', 'fragmented' ],
    [ 'ledger-report.txt',          'report', '--top', '3' ],
    [ 'ledger-report.md',           'report', '--top', '3', '--format', 'markdown' ],
    [ 'ledger-diff.txt',            'diff', '--heap', '--top', '3', '--snapshot', 'start', '--snapshot', 'fragmented', $profile ],
);

for my $o (@outputs) {
    my ( $name, @args ) = @$o;
    my ( $out, $err, $status ) = run_capture( [ memprof_bin(), @args, $profile ] );
    is( $status, 0, "memprof @args" ) or diag $err;
    $out =~ s/\(perl ([^,]+), pid \d+, [\d.]+ m?s\)/(perl $1, pid PID, TIME)/g;
    my $file = "$golden/expected/$name";
    if ($bless) {
        write_file( $file, $out );
        pass("blessed $name");
        next;
    }
    my $want = -e $file ? slurp($file) : '';
    is( $out, $want, "memprof @args gives t/golden/expected/$name" )
        or diag "if the change is meant, bless it: MEMPROF_BLESS=1 prove t/87-ledger-golden.t";
}

# The sentence opens both, as the issue words it.
like( slurp("$golden/expected/ledger-heap.txt"),
    qr/\AThe process's data segment is \S+ \S+: perl's data \S+ \S+ \(of it \S+ \S+ free arena slots\), malloc's free chunks \S+ \S+, chunk overhead /,
    'memprof heap opens with the sentence' );
like( slurp("$golden/expected/ledger-report.txt"), qr/\A[^\n]*\n[^\n]*\n\nThe process's data segment is /, 'so does memprof report' );

done_testing;
