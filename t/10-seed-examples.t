# The examples from Tim Bunce's "Perl Memory Use" (OSCON 2012), which the
# profiler must get right: see doc/profile.md, section 1.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

subtest 'a sub keeps its 1 MiB lexical: credited to the my $var line under main;main::foo' => sub {
    my ($p) = profile_code(<<'PERL');
sub foo { my $var = "#" x 2**20; }
foo();
PERL
    my $line = line_of( $p, 't.pl', 1 );
    cmp_ok( $line->{net_bytes}, '>=', MiB, 'line 1 net >= 1 MiB' );
    # "#" x 2**20 is folded into a constant while line 1 is compiled: that
    # copy is the compile frame's, on the same line.  At run time one
    # stack carries the lexical.
    my @compiled = grep { $_->{line} == 1 && $_->{net_bytes} >= MiB && $_->{frames}[-1] =~ /^compile / } @{ $p->{stacks} };
    is( scalar @compiled, 1, 'the folded constant is credited to line 1 as it is compiled' );
    my @stacks = grep { $_->{line} == 1 && $_->{net_bytes} >= MiB && $_->{frames}[-1] !~ /^compile / } @{ $p->{stacks} };
    is( scalar @stacks, 1, 'one stack carries it at run time' );
    is_deeply( $stacks[0]{frames}, [ 'main', 'main::foo' ], 'under main;main::foo' );
    is_deeply(
        [ map { "$_->{frame}\@$_->{line}" } @{ $stacks[0]{path} } ],
        [ 'main@2', 'main::foo@1' ],
        'the path carries the call site'
    );
    cmp_ok( line_of( $p, 't.pl', 2 )->{inclusive}{net_bytes}, '>=', MiB, 'the call line holds it inclusively' );
    conservation_ok( $p, 'foo' );
};

subtest 'recursion 51 deep: each level keeps 1 MiB, the sub counted once' => sub {
    my ($p) = profile_code(<<'PERL');
sub bar { my $var = "#" x 2**20; bar($_[0]-1) if $_[0]; }
bar(50);
PERL
    cmp_ok( line_of( $p, 't.pl', 1 )->{net_bytes}, '>=', 50 * MiB, 'the my $var line: >= 50 MiB net' );
    my @deep = stacks_with( $p, qr/^main(;main::bar)+$/ );
    my %depths = map { scalar( @{ $_->{frames} } ) - 1 => 1 } grep { $_->{net_bytes} >= MiB } @deep;
    is_deeply( [ sort { $a <=> $b } keys %depths ], [ 1 .. 51 ], 'a stack for every depth from 1 to 51' );
    my $bar = sub_named( $p, 'main::bar' );
    cmp_ok( $bar->{inclusive}{net_bytes}, '>=', 50 * MiB, 'main::bar inclusive >= 50 MiB' );
    cmp_ok( $bar->{inclusive}{net_bytes}, '<=', $p->{totals}{net_bytes}, '... and not counted once per level' );
    conservation_ok( $p, 'bar' );
};

SKIP: {
    skip 'Moose is not installed', 2 if ( run_capture( [ perl_bin(), '-MMoose', '-e1' ] ) )[2];

    subtest 'use Moose at line 1: all the growth under that line, little of its own' => sub {
        my ($p) = profile_code("use Moose;\nprint qq{ok\\n};\n");
        my $line  = line_of( $p, 't.pl', 1 );
        my $total = $p->{totals}{net_bytes};
        cmp_ok( $line->{inclusive}{net_bytes}, '>=', 0.9 * $total, 'inclusive >= 90% of the run' );
        cmp_ok( abs( $line->{net_bytes} ), '<', 0.01 * $total, 'exclusive is small' );
        my @mop = stacks_with( $p, qr/;Class\/MOP\.pm(;|$)/ );
        ok( scalar(@mop), 'frames for Class/MOP.pm' );
        ok( ( grep { $_->{file} =~ m{Class/MOP\.pm\z} && $_->{line} > 0 } @mop ), '... with lines of its own' );
        ok( scalar( stacks_with( $p, qr/;compile Class\/MOP\.pm$/ ) ), '... and its compilation' );
        my ($under) = grep { $_->{path}[0]{line} == 1 || $_->{path}[1]{line} == 1 } @mop;
        ok( $under, 'Class/MOP.pm runs beneath line 1' );
        conservation_ok( $p, 'use Moose' );
    };

    subtest 'memprof run -MMoose -e1' => sub {
        my ( $p, $out, $err, $status ) = profile_script( '-e1', perl_args => ['-MMoose'] );
        is( $status, 0, 'exit status 0' );
        is( $err, '', 'nothing on stderr' );
        cmp_ok( $p->{totals}{net_bytes}, '>', 1_000_000, 'loading Moose grows the heap' );
        ok( scalar( stacks_with( $p, qr/;Moose\.pm(;|$)/ ) ), 'a frame for Moose.pm' );
        conservation_ok( $p, '-MMoose -e1' );
    };
}

done_testing;
