# A program killed by a signal no handler can catch gets no profile, and
# `memprof run` says which signal it was, not only "no such file" (issue 14).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $dir = tempdir( CLEANUP => 1 );
for my $case ( [ 9, qr/signal 9 \(Killed\), which no program can catch/ ], [ 11, qr/signal 11 \(Segmentation fault\), a crash/ ] ) {
    my ( $sig, $why ) = @$case;
    my ( $out, $err, $status ) = run_capture(
        [ memprof_bin(), 'run', '--no-render', '-o', "$dir/p$sig.out", '-e', "\$| = 1; print qq{before\\n}; kill $sig, \$\$; sleep 5" ],
        cwd => $dir );
    is( $out, "before\n", "signal $sig: the program's output is its own" );
    is( $status & 127, $sig, "signal $sig: memprof dies of the same signal" );
    like( $err, qr/^memprof: the program was killed by $why: no profile could be written/m, "signal $sig: and says so" );
    ok( !-e "$dir/p$sig.out", "signal $sig: there is indeed no profile" );
}
done_testing;
