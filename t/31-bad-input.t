# Every subcommand answers a missing, empty, truncated, foreign or newer
# profile, and an unknown metric, with one line on stderr and exit status 2
# (issues 2 and 3).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

my $bin = memprof_bin();
my $dir = tempdir( CLEANUP => 1 );
my ( undef, undef, undef, undef, $good ) = profile_code("my \$x = 'a' x 1000;\n");
my $bytes = slurp($good);

my %bad = (
    missing   => [ "$dir/missing.out", qr/^memprof: \Q$dir\E\/missing\.out: no such file$/ ],
    empty     => [ write_file( "$dir/empty.out", '' ), qr/^memprof: \Q$dir\E\/empty\.out: the file is empty$/ ],
    truncated => [
        write_file( "$dir/truncated.out", substr( $bytes, 0, length($bytes) - 10 ) ),
        qr/^memprof: \Q$dir\E\/truncated\.out: truncated: the header promises \d+ bytes of data but the file holds \d+$/
    ],
    foreign => [
        write_file( "$dir/foreign.out", "#!/usr/bin/perl\nprint 1;\n" ),
        qr/^memprof: \Q$dir\E\/foreign\.out: not a Devel::MemProf profile$/
    ],
    newer => [
        do { ( my $b = $bytes ) =~ s/^(MEMPROF\0)./$1\x63/s; write_file( "$dir/newer.out", $b ) },
        qr/^memprof: \Q$dir\E\/newer\.out: written in profile format version 99, but this memprof reads versions up to ${\ ord substr( $bytes, 8, 1 ) }; upgrade memprof$/
    ],
    directory => [ $dir, qr/^memprof: \Q$dir\E: is a directory$/ ],
);

my @commands = (
    [ 'report',     sub { ( 'report', @_ ) } ],
    [ 'flamegraph', sub { ( 'flamegraph', @_, '-o', "$dir/x.svg" ) } ],
    [ 'folded',     sub { ( 'folded', @_ ) } ],
    [ 'csv',        sub { ( 'csv', @_ ) } ],
    [ 'json',       sub { ( 'json', @_ ) } ],
    [ 'diff old',   sub { ( 'diff', @_, $good ) } ],
    [ 'diff new',   sub { ( 'diff', $good, @_ ) } ],
    [ 'merge',      sub { ( 'merge', $good, @_, '-o', "$dir/merged.out" ) } ],
    [ 'export',     sub { ( 'export', '--format', 'pprof', @_, '-o', "$dir/x.pb.gz" ) } ],
);

for my $c (@commands) {
    my ( $name, $args ) = @$c;
    for my $kind ( sort keys %bad ) {
        my ( $file, $message ) = @{ $bad{$kind} };
        my ( $out, $err, $status ) = run_capture( [ $bin, $args->($file) ] );
        is( $status >> 8, 2, "$name on a $kind file: exit status 2" );
        like( $err, qr/\A[^\n]*\n\z/, "$name on a $kind file: one line" );
        like( $err, $message, "$name on a $kind file: names the file and the problem" );
        is( $out, '', "$name on a $kind file: nothing on stdout" );
    }
}
ok( !-e "$dir/merged.out", 'a failed merge writes nothing' );
ok( !-e "$dir/x.svg",      'a failed flamegraph writes nothing' );
ok( !-e "$dir/x.pb.gz",    'a failed export writes nothing' );

for my $cmd ( [ 'flamegraph', '--metric', 'weight', $good ], [ 'folded', '--metric', 'weight', $good ],
    [ 'export', '--format', 'pprof', '--metric', 'weight', $good ] )
{
    my ( $out, $err, $status ) = run_capture( [ $bin, @$cmd ] );
    is( $status >> 8, 2, "$cmd->[0] with an unknown metric: exit status 2" );
    is( $err, "memprof: unknown metric 'weight' (use net, alloc, retained or peak)\n", '... and says so in one line' );
}
{
    my ( undef, $err, $status ) = run_capture( [ $bin, 'report', '--format', 'pdf', $good ] );
    is( $status >> 8, 2, 'report with an unknown format: exit status 2' );
    is( $err, "memprof: unknown format 'pdf' (use text or markdown)\n", '... one line' );
    ( undef, $err, $status ) = run_capture( [ $bin, 'csv', '--by', 'colour', $good ] );
    is( $err, "memprof: unknown --by 'colour' (use line, sub or stack)\n", 'csv with an unknown --by' );
}

done_testing;
