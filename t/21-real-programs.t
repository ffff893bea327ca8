# Two real programs from Debian run under the profiler with output identical
# to a plain run (issue 6): perltidy on a large Perl file, perlcritic on a
# module.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

sub which { my ($p) = grep { -x } map {"$_/$_[0]"} split /:/, $ENV{PATH}; $p }

my ($perl5db) = grep { -f } map {"$_/perl5db.pl"} @INC;
my ($textwrap) = grep { -f } map {"$_/Text/Wrap.pm"} @INC;
my %programs = (
    perltidy   => [ which('perltidy'),   [ '-st', '-se', $perl5db ] ],
    perlcritic => [ which('perlcritic'), [ '--brutal', '--verbose', '%f:%l:%c %m [%p]\n', $textwrap ] ],
);

for my $name ( sort keys %programs ) {
    my ( $program, $args ) = @{ $programs{$name} };
    subtest $name => sub {
        plan skip_all => "$name is not installed" unless $program;
        my ( $out, $err, $status ) = run_capture( [ perl_bin(), $program, @$args ] );
        my ( $p, $pout, $perr, $pstatus ) = profile_script( $program, args => $args, no_json => 1 );
        cmp_ok( length $out, '>', 1000, "$name says something" );
        ok( $pout eq $out, 'same stdout' ) or diag "lengths: " . length($pout) . " vs " . length($out);
        is( $perr,    $err,    'same stderr' );
        is( $pstatus, $status, 'same exit status' );
    };
}

done_testing;
