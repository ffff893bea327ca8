# Heap snapshots (issue 15): the census by type equals an independent walk
# of perl's arenas, Devel::MAT's (Debian's libdevel-mat-perl), taken at the
# next statement; classes are counted by blessed package.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'Devel::MAT is not installed for ' . perl_bin()
    if ( run_capture( [ perl_bin(), '-MDevel::MAT', '-MDevel::MAT::Dumper', '-e1' ] ) )[2];

my $dir = tempdir( CLEANUP => 1 );
my ( $p, $out, $err, $status ) = profile_code( <<'PERL', args => ["$dir/heap.pmat"] );
use Devel::MAT::Dumper;
my $file = shift;
our %h = map { $_ => [$_] } 1 .. 200;
our @objects = map { bless { id => $_ }, 'My::Thing' } 1 .. 30;
our $re = qr/x+y/;
our @cycle = map { my $x = {}; $x->{me} = $x; 1 } 1 .. 25;
sub counter { my $n = 0; return sub { $n++ } }
our $c = counter();
Devel::MemProf::snapshot("census"); Devel::MAT::Dumper::dump($file);
PERL
is( $status, 0, 'the script ran' ) or diag $err;
my ($s) = grep { $_->{label} eq 'census' } @{ $p->{snapshots} };
ok( $s, 'a snapshot' ) or BAIL_OUT('no snapshot');

# Devel::MAT's types, as the snapshot names them.
my ( $counts, $merr, $mstatus ) = run_capture( [ perl_bin(), '-MDevel::MAT', '-e', <<'PERL', "$dir/heap.pmat" ] );
my $pmat = Devel::MAT->load( $ARGV[0] );
my %n;
# Devel::MAT tells pads and symbol tables from other arrays and hashes.
my %as = ( REF => 'SCALAR', UNDEF => 'SCALAR', BOOL => 'SCALAR', STASH => 'HASH', PAD => 'ARRAY' );
for my $sv ( $pmat->dumpfile->heap ) {
    my $t = $sv->type;
    $n{ $as{$t} // $t }++;
}
print "$_ $n{$_}\n" for sort keys %n;
PERL
is( $mstatus, 0, 'Devel::MAT read the dump' ) or diag $merr;
my %mat = map { split / / } split /\n/, $counts;
my %mine = map { $_->{name} => $_->{count} } @{ $s->{types} };
for my $type ( sort keys %mine ) {
    # The statement between the two takes the dump's file name from a lexical:
    # no SV is made or freed in between.
    is( $mat{$type} // 0, $mine{$type}, "$type: the snapshot counted $mine{$type}, as Devel::MAT" );
}
my %classes = map { $_->{name} => $_ } @{ $s->{classes} };
is( $classes{'My::Thing'}{count}, 30, '30 SVs blessed into My::Thing' );
my @cycles = grep { $_->{kind} eq 'HASH' && $_->{line} == 6 } @{ $s->{unreachable} };
is( scalar(@cycles) && $cycles[0]{count}, 25, '25 unreachable HASHes from line 6' );

done_testing;
