# Labels (issue 18): what ran under Devel::MemProf::label / with_label is
# credited under the label as well as to its lines; runs are counted; the
# label before with_label comes back when it returns or dies.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my ( $p, $out, $err, $status ) = profile_code(<<'PERL');
our ( @kept, @log );
sub job   { my ($n) = @_; push @kept, "k" x 2000 for 1 .. $n; return "did $n" }
sub temp  { my $s = "t" x 100_000; return length $s }
Devel::MemProf::label("setup");
our @config = map { "c" x 500 } 1 .. 100;
for my $i ( 1 .. 10 ) {
    my $r = Devel::MemProf::with_label( "job", sub { job(3) } );
    push @log, $r;
    my @list = Devel::MemProf::with_label( "list", sub { ( 1, 2, 3 ) } );
    push @log, scalar @list;
    Devel::MemProf::with_label( "temp", \&temp );
}
print Devel::MemProf::current_label(), "\n";
eval { Devel::MemProf::with_label( "dies", sub { die "inner\n" } ) };
print "died: $@", Devel::MemProf::current_label(), "\n";
Devel::MemProf::with_label( "outer", sub {
    Devel::MemProf::with_label( "inner", sub { push @kept, "i" x 3000 } );
    print Devel::MemProf::current_label(), "\n";
} );
Devel::MemProf::label(undef);
print defined Devel::MemProf::current_label() ? "still labelled\n" : "no label\n";
print "@log[0,1]\n";
eval { Devel::MemProf::with_label( "bad", "not code" ) };
print $@;
PERL
is( $status, 0, 'the script ran' ) or diag $err;
is( $out, "setup\ndied: inner\nsetup\nouter\nno label\ndid 3 3\nDevel::MemProf::with_label: not a code reference at $1 line 23.\n",
    'with_label returns what the code returns, in its context, and restores the label before it, also after a die' )
    if $out =~ m{ at (\S+t\.pl) line 23\.$}m or fail("no error message for a bad with_label: $out");

my %labels = map { $_->{label} => $_ } @{ $p->{labels} };
is_deeply( [ sort keys %labels ], [qw(dies inner job list outer setup temp)], 'every label that ran is listed' );
is( $labels{job}{runs},   10, 'each with_label call is a run' );
is( $labels{setup}{runs}, 1,  'and each label call' );
cmp_ok( $labels{job}{retained_bytes_per_run}, '>=', 3 * 2000, 'job keeps its three strings a run' );
cmp_ok( $labels{job}{retained_bytes_per_run}, '<=', 3 * 2000 * 1.25, '(and not much more)' );
is( "$labels{job}{lines}[0]{line}", 2, 'allocated by the line in job' );
# Perl keeps a lexical's buffer for the sub's next call: only the first run allocates it.
cmp_ok( $labels{temp}{alloc_bytes}, '>=', 100_000, 'temp allocates its 100 kB buffer' );
cmp_ok( $labels{temp}{alloc_bytes}, '<', 2 * 100_000, 'once' );
cmp_ok( $labels{temp}{retained_bytes}, '<', 110_000, 'and keeps at most the one buffer perl keeps for the next call' );
cmp_ok( $labels{setup}{retained_bytes}, '>=', 100 * 500, 'setup holds the config' );
cmp_ok( $labels{inner}{retained_bytes}, '>=', 3000, 'a nested label gets what ran under it' );
cmp_ok( $labels{outer}{retained_bytes}, '<', 3000, '... and not the label around it' );

# The labels' figures are their entries': never more than the run's.
my %sum;
for my $l ( values %labels ) { $sum{$_} += $l->{$_} for qw(alloc_bytes free_bytes retained_bytes) }
cmp_ok( $sum{$_}, '<=', $p->{totals}{$_}, "labels' $_ within the run's" ) for qw(alloc_bytes free_bytes retained_bytes);
my %by_stack;
$by_stack{ $_->{label} // '' } += $_->{alloc_bytes} for @{ $p->{stacks} };
is( $by_stack{job}, $labels{job}{alloc_bytes}, 'stacks carry their label' );
conservation_ok( $p, 'labelled run' );

my $file = ( profile_code('1') )[4];
my ( $o, $e, $s ) = run_capture( [ memprof_bin(), 'report', '--by', 'lable', $file ] );
is( $e, "memprof: unknown --by 'lable' for report (expected label, or code for the usual report)\n", 'a bad --by is named' );
is( $s >> 8, 2, 'exit 2' );
( $o, $e, $s ) = run_capture( [ memprof_bin(), 'report', '--by', 'label', $file ] );
like( $o, qr/^No labels: the program called neither/m, 'a profile without labels says so' );
done_testing;
