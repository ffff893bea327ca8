# Transparency (issue 2): every script of t/corpus prints exactly the same
# stdout and stderr and exits with the same status with and without the
# profiler, and leaves a profile that memprof json reads and that conserves
# every metric (DESIGN §4).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my @scripts = sort glob "$FindBin::Bin/corpus/*.pl";
cmp_ok( scalar @scripts, '>=', 60, 'the corpus has at least 60 scripts' );

for my $script (@scripts) {
    ( my $base = $script ) =~ s/\.pl\z//;
    my $name  = ( split m{/}, $base )[-1];
    my @args  = -e "$base.args" ? split( /\n/, slurp("$base.args"), -1 ) : ();
    pop @args if @args && $args[-1] eq '' && slurp("$base.args") =~ /\n\z/;
    my %stdin = -e "$base.stdin" ? ( stdin => "$base.stdin" ) : ();
    subtest $name => sub {
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
    };
}

done_testing;
