# The runloop resolves most calls and returns itself, from the recorder's
# shadow stack, its last-child memo and a cache of nodes, and most
# statements from the frame's pad alone.  Each case here runs in a loop, so
# that those paths are what credits it, and is built so that a stale answer
# would land on another stack: the same sub reached from two call sites
# through a frame that returns without a statement of its own, two subs
# called from one statement in turn, eval blocks, recursion, closures,
# method calls, goto &sub and a sort block between the calls.  Every stack
# is checked with its call lines (the profile's `path`), and each must hold
# what its iterations allocated, no more.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use Test::More;

my $N = 300;
my $script = <<'PERL';
our @keep;
$#keep = 20_000;    # allocated once, so pushes add only their strings
$#keep = -1;
sub leaf  { push @keep, 'x' x 1000 }    #L leaf
sub other { push @keep, 'y' x 3000 }    #L other
sub via   { leaf() }    #L via
sub Obj::new  { bless {}, shift }
sub Obj::meth { main::leaf() }    #L meth
sub rec { my $n = shift; return leaf() if $n == 0; rec( $n - 1 ) }    #L rec
sub jump { goto &leaf }
my $chain = sub { leaf() };    #L chain-inner
$chain = do { my $in = $chain; sub { $in->() } } for 1 .. 3;    #L chain-outer
my $obj = Obj->new;
for my $i ( 1 .. N ) {
    via();    #L site-a
    via() if $i % 3 == 0;    #L site-b
    other(); leaf();    #L two
    eval { leaf(); 1 } or die $@;    #L eval
    my @s = sort { $a <=> $b } 3, 1, 2;
    rec(2);    #L recurse
    $chain->();    #L closure
    $obj->meth;    #L method
    jump();    #L goto
}
PERL
$script =~ s/\bN\b/$N/;

my %line;
my $no = 0;
for ( split /\n/, $script ) {
    $no++;
    $line{$1} = $no if /#L (\S+)$/;
}

# Expected stacks: frames with the line each was at, and the calls made.
my $L = sub { "t.pl:$line{ $_[0] }" };
my %expect = (
    join( ' > ', "main\@" . $L->('site-a'), "main::via\@" . $L->('via'), "main::leaf\@" . $L->('leaf') ) => $N,
    join( ' > ', "main\@" . $L->('site-b'), "main::via\@" . $L->('via'), "main::leaf\@" . $L->('leaf') ) => $N / 3,
    join( ' > ', "main\@" . $L->('two'),     "main::leaf\@" . $L->('leaf') ) => $N,
    join( ' > ', "main\@" . $L->('eval'),    "main::leaf\@" . $L->('leaf') ) => $N,
    join( ' > ', "main\@" . $L->('goto'),    "main::leaf\@" . $L->('leaf') ) => $N,
    join( ' > ', "main\@" . $L->('method'),  "Obj::meth\@" . $L->('meth'), "main::leaf\@" . $L->('leaf') ) => $N,
    join( ' > ',
        "main\@" . $L->('recurse'),
        ( "main::rec\@" . $L->('rec') ) x 3,
        "main::leaf\@" . $L->('leaf') ) => $N,
    join( ' > ',
        "main\@" . $L->('closure'),
        ( "main::__ANON__[t.pl:$line{'chain-outer'}]\@" . $L->('chain-outer') ) x 3,
        "main::__ANON__[t.pl:$line{'chain-inner'}]\@" . $L->('chain-inner'),
        "main::leaf\@" . $L->('leaf') ) => $N,
);
my $other = join ' > ', "main\@" . $L->('two'), "main::other\@" . $L->('other');

for my $mode ( [ 'site tracking', '' ], [ 'sites=0', 'sites=0' ] ) {
    my ( $name, $memprof ) = @$mode;
    my ( $p, undef, $err, $status ) = profile_code( $script, env => { MEMPROF => $memprof } );
    is( $status, 0, "$name: the script ran" ) or diag $err;
    conservation_ok( $p, $name );
    my %got;
    for my $s ( @{ $p->{stacks} } ) {
        next unless $s->{line} == $line{leaf} || $s->{line} == $line{other};
        my $key = join ' > ', map {( $_->{frame} =~ s{\[.*/}{[}r ) . "\@" . ( $_->{file} =~ s{.*/}{}r ) . ":$_->{line}"} @{ $s->{path} };
        $got{$key} += $s->{alloc_bytes};
    }
    for my $stack ( sort keys %expect ) {
        my $calls = $expect{$stack};
        my $bytes = delete $got{$stack} // 0;
        # A 1000-byte string is a block of 1000 to 1024 usable bytes; perl's
        # SV arenas add a 4 KiB block every 170 SVs or so, a recursion's new
        # pads and an eval's error variable a few more.  A stack given
        # another's calls would hold a third more or less.
        ok( $bytes >= 1000 * $calls && $bytes <= 1100 * $calls + 16384,
            "$name: $stack: $bytes bytes for $calls calls" );
    }
    my $y = delete $got{$other} // 0;
    ok( $y >= 3000 * $N && $y <= 3100 * $N, "$name: $other: $y bytes" );
    delete $got{$_} for grep {/ > compile /} keys %got;    # compiling those lines
    is_deeply( [ sort keys %got ], [], "$name: no other stack allocated at those lines" );
}

# A frame's name is remembered with the sub, its body and its GV: a sub
# renamed after its first calls (Sub::Util::set_subname) is named anew
# where it is met from a new place.
{
    my $renamed = <<'PERL';
use Sub::Util qw(set_subname);
our @keep;
sub work { push @keep, 'z' x 2000 }    #W work
work() for 1 .. 50;    #W site-a
set_subname( 'main::renamed', \&work );
work() for 1 .. 50;    #W site-b
PERL
    my %at;
    my $n = 0;
    for ( split /\n/, $renamed ) { $n++; $at{$1} = $n if /#W (\S+)$/ }
    my ( $p, undef, $err, $status ) = profile_code( $renamed, env => { MEMPROF => 'sites=0' } );
    is( $status, 0, 'renamed: the script ran' ) or diag $err;
    my %frames;
    for my $s ( @{ $p->{stacks} } ) {
        next unless $s->{line} == $at{work} && @{ $s->{path} } == 2 && $s->{path}[0]{frame} eq 'main' && $s->{path}[1]{frame} !~ /^compile /;
        $frames{ $s->{path}[0]{line} } = $s->{path}[1]{frame};
    }
    is_deeply( \%frames, { $at{'site-a'} => 'main::work', $at{'site-b'} => 'main::renamed' },
        'the calls before the rename are under its old name, those after under the new one' );
}

# The frames of subs whose bodies were freed are forgotten: a sub compiled
# by a string eval, called and deleted, leaves its CV's, its ops' and its
# GV's memory to the next one, which must not be taken for it (without
# the forgetting, about one in six was credited to an earlier name).
{
    my $churn = <<'PERL';
our @keep;
for my $i ( 1 .. 100 ) {
    eval "sub Gen::f$i { push \@main::keep, 'g' x ( 100 * $i ) } Gen::f$i() for 1 .. 3; 1" or die $@;
    undef &{"Gen::f$i"};
    delete $Gen::{"f$i"};
}
PERL
    for my $memprof ( '', 'sites=0' ) {
        my $name = $memprof || 'site tracking';
        my ( $p, undef, $err, $status ) = profile_code( $churn, env => { MEMPROF => $memprof, PERL_HASH_SEED => 0, PERL_PERTURB_KEYS => 0 } );
        is( $status, 0, "churn, $name: the script ran" ) or diag $err;
        my %by;
        for my $s ( @{ $p->{stacks} } ) {
            $by{$1} += $s->{alloc_bytes} if $s->{path}[-1]{frame} =~ /\AGen::f(\d+)\z/;
        }
        my @short = grep { ( $by{$_} // 0 ) < 3 * 100 * $_ } 1 .. 100;
        is_deeply( \@short, [], "churn, $name: each of the 100 subs holds at least its own three strings" )
            or diag explain \%by;
    }
}

done_testing;
