# Test::MemProf catches what Test::LeakTrace catches (issue 19).  The
# leaking blocks are the examples Test::LeakTrace ships (Debian's
# libtest-leaktrace-perl, /usr/share/doc/libtest-leaktrace-perl/examples),
# plus a closure that captures itself.  For each, Test::LeakTrace's
# no_leaks_ok fails, and so does ours, with bytes and the leaking line.
# Its weakref.pl example, which does not leak, passes both.  A cache
# filled on first use, which a naive growth check flags, passes ours.
use strict;
use warnings;

# The library is loaded into this process: it must be the perl it was built for.
BEGIN { exec $ENV{PERL}, $0, @ARGV or die "exec $ENV{PERL}: $!" if $ENV{PERL} && $ENV{PERL} ne $^X }
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

# Debian's Test::LeakTrace is built for the system perl; another perl (the
# unthreaded one) has none.
BEGIN { eval { require Test::LeakTrace; 1 } or plan skip_all => 'Test::LeakTrace is not installed for this perl' }

use lib repo_root() . '/lib';
use lib perl_lib_dir();
use Test::MemProf ();


{

    # weakref.pl
    package X;
    use Scalar::Util qw(weaken);

    sub new {
        my ($class) = @_;
        my $self = bless {}, $class;
        return $self;
    }

    sub set_other {
        my ( $self, $other ) = @_;
        weaken( $self->{other} = $other ) if $other;
        return $self;
    }
}

# name => [ block, the lines that allocate what leaks (any one will do) ]
my %leaks;
my $l = __LINE__;
$leaks{'simple.pl: two hashes, each referring to itself'} = [
    sub {
        my %a;
        my %b;

        $a{b} = \%a;
        $b{a} = \%b;
    },
    [ $l + 6, $l + 7 ]
];
$l = __LINE__;
$leaks{'callback.pl, leaked_refs.pl, script.pl: two hashes referring to each other'} = [
    sub {
        my %a;
        my %b;

        $a{b} = \%b;
        $b{a} = \%a;
    },
    [ $l + 6, $l + 7 ]
];
$l = __LINE__;
$leaks{'test_fail.pl: an array that contains a reference to itself'} = [
    sub {
        my @array;
        push @array, \@array;
    },
    [ $l + 4 ]
];
$l = __LINE__;
$leaks{'a closure that captures itself'} = [
    sub {
        my $f;
        $f = sub { $f->() };
    },
    [ $l + 4 ]
];

my $here = __FILE__;
for my $name ( sort keys %leaks ) {
    my ( $block, $lines ) = @{ $leaks{$name} };
    my ($theirs) = outcome { Test::LeakTrace::no_leaks_ok( \&$block, $name ) };
    is( $theirs, 0, "$name: Test::LeakTrace's no_leaks_ok fails" );
    my ( $ours, $diag ) = outcome { Test::MemProf::no_leaks_ok( \&$block, $name ) };
    is( $ours, 0, "... and so does ours" );
    like( $diag, qr/5 runs leaked [1-9][\d,.]* (?:bytes|KiB)/, '... with the bytes leaked' ) or diag $diag;
    my $at = join '|', @$lines;
    like( $diag, qr/the leaked bytes were allocated by:\n(?:.*\n)*?  .* at \Q$here\E line (?:$at):/,
        '... and the line that allocated them' )
        or diag $diag;
    cmp_ok( Test::MemProf::leaked_bytes( \&$block ), '>', 0, '... and leaked_bytes is not 0' );
}

my $weakref = sub {
    my $a = X->new;
    my $b = X->new;

    $a->set_other($b);
    $b->set_other($a);
};
my ($theirs) = outcome { Test::LeakTrace::no_leaks_ok( \&$weakref, 'weakref.pl' ) };
is( $theirs, 1, "weakref.pl: Test::LeakTrace's no_leaks_ok passes" );
my ( $ours, $diag ) = outcome { Test::MemProf::no_leaks_ok( \&$weakref, 'weakref.pl' ) };
is( $ours, 1, '... and so does ours' ) or diag $diag;

# A cache that fills on first use: each new key is a leak to a check that
# looks at the first call, or at the growth over the calls from a cold start.
my %cache;
my $cached = sub { $cache{ $_[0] // 'k' } //= [ map {"value $_"} 1 .. 100 ] };
my $cold   = Devel::MemProf::measure( sub { $cached->() for 1 .. 5 } );
cmp_ok( $cold->{retained}, '>', 1000, "a naive growth check (5 calls from cold) sees $cold->{retained} bytes kept" );
%cache = ();
cmp_ok( Test::LeakTrace::leaked_count( sub { $cached->() } ), '>=', 100,
    "... and so does Test::LeakTrace's leaked_count from cold (its 100 values)" );
%cache = ();
( $ours, $diag ) = outcome { Test::MemProf::no_leaks_ok( \&$cached, 'cache' ) };
is( $ours, 1, 'our no_leaks_ok passes it: full after the warm-up call' ) or diag $diag;

# method_cache.pl: perl caches where Derived->hello was found, on the first call.
{

    package Base;
    sub hello { return 'Hello, world!' }

    package Derived;
    our @ISA = qw(Base);
}
cmp_ok( Test::LeakTrace::leaked_count( sub { Derived->hello } ), '>', 0,
    "method_cache.pl: the first call of an inherited method leaves scalars to Test::LeakTrace's leaked_count" );
( $ours, $diag ) = outcome { Test::MemProf::no_leaks_ok( sub { Derived->hello }, 'method cache' ) };
is( $ours, 1, '... and our no_leaks_ok passes it' ) or diag $diag;

done_testing;
