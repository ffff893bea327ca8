# The block table that site tracking keeps (perl-glue/alloc/sites.h), on
# its own: t/c/site-table.c drives it with millions of inserts and frees
# in the patterns malloc's callers make and checks every step against a
# plain list (see the program's comment for the patterns).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Config;
use File::Temp qw(tempdir);
use Test::More;

my $root = repo_root();
my $dir  = tempdir( CLEANUP => 1 );
my $bin  = "$dir/site-table";
my ( $out, $err, $status ) = run_capture(
    [   $Config{cc}, '-O2', '-Wall', "-I$root/perl-glue", "-I$root/perl-glue/alloc", '-o', $bin,
        "$root/t/c/site-table.c", "$root/perl-glue/alloc/sites.c", '-lm', '-lpthread'
    ]
);
is( $status, 0, 'the table and its driver build' ) or BAIL_OUT("$out$err");

for my $case (
    # seed, steps, mode, what must have happened
    [ 1, 2_000_000,  '',      qr/grown 3 times/ ],
    [ 2, 20_000_000, '',      qr/2560000 slots, grown 9 times/ ],    # past 2^20 slots: grown by a quarter
    [ 3, 3_000_001,  'dense', qr/rebuilt [1-9]/ ],                    # full groups freed: rebuilt in place
    [ 4, 3_000_001,  'dense', qr/rebuilt [1-9]/ ],
    )
{
    my ( $seed, $steps, $mode, $shape ) = @$case;
    my ( $o, $e, $s ) = run_capture( [ $bin, $seed, $steps, $mode ? $mode : () ] );
    my $name = "seed $seed, $steps steps" . ( $mode ? ", $mode" : '' );
    is( $s, 0, "$name: every step agrees with the list" ) or diag "$o$e";
    like( $o, $shape, "$name: the table went through what the case is for" ) or diag $o;
}

done_testing;
