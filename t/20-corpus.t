# Transparency (issue 2): every script of t/corpus prints exactly the same
# stdout and stderr and exits with the same status with and without the
# profiler, and leaves a profile that memprof json reads and that conserves
# every metric (doc/profile.md, "conservation").
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my @cases = corpus_cases();
cmp_ok( scalar @cases, '>=', 60, 'the corpus has at least 60 scripts' );

corpus_subtests(
    \@cases,
    sub {
        my ( $name, $script, @args ) = ( $_[0]{name}, $_[0]{script}, @{ $_[0]{args} } );
        my %stdin = %{ $_[0]{stdin} };
        my ( $out, $err, $status ) = run_capture( [ perl_bin(), $script, @args ], %stdin );
        my ( undef, $pout, $perr, $pstatus, $file ) = profile_script( $script, args => \@args, %stdin, no_json => 1 );
        is( $pout,    $out,    'same stdout' );
        is( $perr,    $err,    'same stderr' );
        is( $pstatus, $status, "same exit status ($status)" );
        ok( -s $file, 'a profile was written' ) or return;
        my $p = memprof_json( $file, '--no-stacks' );
        ok( $p->{totals}{alloc_count} > 0, 'it counted allocations' );
        # The stacks list grows with the square of the depth: check it
        # where that stays small.
        $p = memprof_json($file) if $p->{max_stack_depth} <= 300;
        conservation_ok( $p, $name );
    }
);

# One-liners: -e, -E, -n/-l with input, and a die.
my @one_liners = (
    [ '-le', 'print for map { $_ * 2 } 1 .. 5' ],
    [ '-E',  'my %h = map { $_ => 1 } 1 .. 1000; say scalar keys %h; warn "done\n"' ],
    [ '-nle', 'print length' ],
    [ '-e',  'my @a = (1) x 1000; die "oops\n"' ],
);
for my $args (@one_liners) {
    subtest "perl @$args" => sub {
        my %stdin = ( stdin => "$FindBin::Bin/corpus/19-read-stdin.stdin" );
        my ( $out, $err, $status ) = run_capture( [ perl_bin(), @$args ], %stdin );
        my ( $p, $pout, $perr, $pstatus ) = profile_script( $args->[-1], perl_args => [ @$args[ 0 .. $#$args - 1 ] ], %stdin );
        is( $pout,    $out,    'same stdout' );
        is( $perr,    $err,    'same stderr' );
        is( $pstatus, $status, 'same exit status' );
        conservation_ok( $p, "@$args" );
        my ($one_liner) = grep { $_->{file} eq '-e' && $_->{line} > 0 } @{ $p->{lines} };
        ok( $one_liner, 'its statements are credited to -e' );
    };
}

done_testing;
