# A one-liner's program text is read from perl's command line: a switch's
# value that holds an e (-F/[eE]/, -i.bake) is not an -e (issue 11).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $dir   = tempdir( CLEANUP => 1 );
my $input = write_file( "$dir/in.txt", join '', map {"w${_}eX$_ tail\n"} 1 .. 2000 );
my ( $out, $err, $status ) = run_capture(
    [ memprof_bin(), 'run', '-q', '--no-render', '-o', "$dir/p.out", '-F/[eE]/', '-lane',
        'push @main::k, $F[0] x 50', $input ],
    cwd => $dir );
is( $status, 0, 'the one-liner ran' ) or diag $err;
my $p = memprof_json("$dir/p.out");
my ($line) = grep { $_->{file} eq '-e' && $_->{line} == 1 } @{ $p->{lines} };
ok( $line && $line->{alloc_bytes} > 0, 'memory is credited to -e:1' );
my ($report) = run_capture( [ memprof_bin(), 'report', "$dir/p.out" ] );
like( $report, qr/-e:1  push \@main::k, \$F\[0\] x 50/, 'the report shows the program, not the -F pattern' );
unlike( $report, qr/-e:1  E\]\//, 'and not the rest of -F/[eE]/' );
done_testing;
