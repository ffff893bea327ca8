# The CI gate catches real leaks (issue 14): `memprof diff --fail-over`
# judges what was held at exit, so records kept by top-level code and
# nodes leaked through a reference cycle fail it, and the line named first
# is the one that allocated what was kept.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my $bin = memprof_bin();

sub profile_of {
    my ($code) = @_;
    my ( undef, undef, $err, $status, $file ) = profile_code( $code, no_json => 1 );
    die "profiling failed ($status): $err" if $status;
    return $file;
}

sub gate {
    my ( $old, $new, @args ) = @_;
    my ( $out, $err, $status ) = run_capture( [ $bin, 'diff', '--fail-over', 1_000_000, @args, $old, $new ] );
    return ( $out, $err, $status >> 8 );
}

# The first line listed under a heading of the text diff.
sub first_under {
    my ( $text, $heading ) = @_;
    my ($row) = $text =~ /^\Q$heading\E\n  (.*)$/m;
    return $row // '';
}

subtest 'records kept by a loop at the top level' => sub {
    my $before = profile_of(<<'PERL');
our @records;
for my $i ( 1 .. 20_000 ) { my $r = { id => $i, body => "x" x 1000 }; }
print scalar(@records), "\n";
PERL
    my $after = profile_of(<<'PERL');
our @records;
for my $i ( 1 .. 20_000 ) { my $r = { id => $i, body => "x" x 1000 }; push @records, $r; }
print scalar(@records), "\n";
PERL
    my ( $out, $err, $status ) = gate( $before, $after );
    is( $status, 1, 'the gate fails' ) or diag $out;
    like( $err, qr/^memprof diff: memory held at exit grew by more than 1000000 bytes/m, 'and says why' );
    like( $err, qr/the run's memory held at exit grew by 2\d\.\d+ MiB/, 'naming the run total' );
    like( first_under( $out, 'Lines by memory held at exit, largest growth first:' ),
        qr/t\.pl:2 .*push \@records/, 'the first line named allocated the kept records' )
        or diag $out;
    my ( $md, undef, $md_status ) = gate( $before, $after, '--format', 'markdown' );
    is( $md_status, 1, 'the Markdown form gates too' );
    like( $md, qr/^\| memory held at exit \| \+2\d\.\d+ MiB \|/m, 'and opens with the run totals' );
    my ( undef, undef, $self ) = gate( $after, $after );
    is( $self, 0, 'the same run against itself passes' );
    my ( undef, $peak_err, $peak ) = gate( $before, $after, '--fail-over-metric', 'peak' );
    is( $peak, 1, '--fail-over-metric peak fails too' );
    like( $peak_err, qr/^memprof diff: memory live at the heap's peak grew by more than/m, 'and says which metric' );
};

my $graph = <<'PERL';
package Node;
use Scalar::Util qw(weaken);
sub new { my ( $class, $parent ) = @_; my $self = bless { parent => $parent, kids => [], pad => "n" x 500 }, $class; WEAKEN; push @{ $parent->{kids} }, $self if $parent; return $self }
package main;
my $nodes = 0;
for my $tree ( 1 .. 200 ) {
    my $root = Node->new(undef);
    Node->new($root) for 1 .. 100;
    $nodes += 1 + @{ $root->{kids} };
}
print "$nodes\n";
PERL

subtest 'a parent/child graph that leaks through a cycle' => sub {
    ( my $weak = $graph ) =~ s/WEAKEN;/weaken( \$self->{parent} ) if \$parent;/;
    ( my $leaky = $graph ) =~ s/WEAKEN;//;
    my ( $before, $after ) = ( profile_of($weak), profile_of($leaky) );
    my ( $out, $err, $status ) = gate( $before, $after );
    is( $status, 1, 'the gate fails on the leak' ) or diag $out;
    like( first_under( $out, 'Lines by memory held at exit, largest growth first:' ),
        qr/t\.pl:3 .*sub new/, 'the first line named is the constructor that allocated the leaked nodes' )
        or diag $out;
    like( first_under( $out, 'Subs by memory held at exit:' ), qr/^Node::new: up /, 'and the first sub is Node::new' );
    my ( undef, undef, $fixed ) = gate( $after, $before );
    is( $fixed, 0, 'the fix (weaken) passes the gate' );
};

subtest 'without site tracking the gate judges net growth, and says what it cannot' => sub {
    my ( undef, undef, undef, undef, $a ) = profile_code( "my \@a = map { [\$_] } 1 .. 1000;\n", no_json => 1,
        env => { MEMPROF => 'sites=0' } );
    my ( $out, $err, $status ) = gate( $a, $a, '--fail-over-metric', 'retained' );
    is( $status, 2, 'asking for retained figures that are not there is an error' );
    like( $err, qr/made with MEMPROF=sites=0, so it has no retained figures/, 'named in one line' );
    ( $out, undef, $status ) = gate( $a, $a );
    is( $status, 0, 'the default falls back to net growth' );
    like( $out, qr/MEMPROF=sites=0: only allocations and net growth can be compared/, 'and the diff says so' );
};

done_testing;
