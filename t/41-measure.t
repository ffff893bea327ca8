# Devel::MemProf::measure (issue 4): a Test::More test that fails when a
# function leaks.  Loaded as a plain module, without -d: no profile is
# written, only measure() is there.
use strict;
use warnings;

# The module is loaded into this process: it must be the perl it was built for.
BEGIN { exec $ENV{PERL}, $0, @ARGV or die "exec $ENV{PERL}: $!" if $ENV{PERL} && $ENV{PERL} ne $^X }
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

use lib perl_lib_dir();
require Devel::MemProf;
use File::Temp qw(tempdir);
chdir tempdir( CLEANUP => 1 ) or die "chdir: $!";

my $leaky = Devel::MemProf::measure(
    sub {
        my $self;
        $self = { name => 'node', data => 'x' x 10_000 };
        $self->{me} = $self;    # a cycle: never freed
    }
);
cmp_ok( $leaky->{retained}, '>=', 10_000, "a reference cycle is reported as retained ($leaky->{retained} bytes)" );

my $closure = Devel::MemProf::measure( sub { my $f; $f = sub { $f->() }; } );
cmp_ok( $closure->{retained}, '>', 0, 'a closure that captures itself leaks' );

my $clean = Devel::MemProf::measure( sub { my $r = { map { $_ => 'v' x 100 } 1 .. 1000 }; undef $r; } );
is( $clean->{retained}, 0, 'a block that frees what it made retains 0 bytes' );
cmp_ok( $clean->{allocated}, '>', 100_000, '... though it allocated' );
is( $clean->{net}, $clean->{allocated} - $clean->{freed}, 'net is allocated minus freed' );
ok( exists $clean->{retained_arena}, 'arena growth is reported apart' );

# 150,000 new hash keys double perl's shared string table at least once,
# whatever keys (%ENV's among them) came before; its bucket array is kept,
# like the arenas, and is not something the block holds.
# (The names are made outside: "key$_" would leave its pad target's buffer.)
my @names = map {"key$_"} 1 .. 150_000;
my $keys = Devel::MemProf::measure( sub { my %h; $h{$_} = 1 for @names; undef %h; } );
is( $keys->{retained}, 0, 'keys made and freed retain 0 bytes though the string table grew' );
cmp_ok( $keys->{retained_arena}, '>=', 150_000 * 8, '... its bucket array is reported with the arenas' );

my $died = eval { Devel::MemProf::measure( sub { die "inside\n" } ); 1 };
ok( !$died, 'a die inside the block propagates' );
is( $@, "inside\n", '... with its message' );

ok( !-e 'memprof.out', 'no profile is written without -d' );
done_testing;
