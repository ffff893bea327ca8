# Which frames a statement runs under, for each kind of context entry the
# stack walk meets (issue 12): subs reached through loops and bare blocks,
# eval blocks and try blocks (no frame of their own), string evals,
# requires, formats, sort subs and sort blocks, regex code blocks, DESTROY
# and tie methods (run in a stackinfo of their own).  On perls before 5.32
# the walk searches the context stack instead of following si_cxsubix; this
# test says whether both find the same frames.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MemProfTest;
use File::Temp qw(tempdir);
use Test::More;

# Each marked line allocates 1 MiB at run time (not a folded constant), once.
my $script = <<'PERL';
our @keep;
my $n = 1;
sub grow { push @keep, 'x' x ( $n << 20 ) }    #L grow
sub in_loops {
    for my $i (1) { while (1) { { grow(); } last } }
}
in_loops();
sub in_eval_block {
    eval { push @keep, 'e' x ( $n << 20 ); 1 }    #L eval-block
      or die $@;
}
in_eval_block();
eval q{push @keep, 's' x ( $n << 20 ); 1} or die $@;    #L string-eval
sub eval_then_sub { eval q{inner(); 1} or die $@ }
sub inner { push @keep, 'i' x ( $n << 20 ) }    #L eval-inner
eval_then_sub();
require Frames_Req;
my $once = 0;
sub by_num { push @keep, 'c' x ( $n << 20 ) unless $once++; $a <=> $b }    #L sort-sub
sub sort_named { my @s = sort by_num 3, 1, 2; }
sort_named();
my $once_b = 0;
sub sort_block { my @s = sort { push @keep, 'b' x ( $n << 20 ) unless $once_b++; $a <=> $b } 3, 1, 2; }    #L sort-block
sort_block();
sub in_regex { "abc" =~ /a(?{ push @keep, 'r' x ( $n << 20 ) })b/ }    #L regex
in_regex();
sub Obj::DESTROY { push @keep, 'd' x ( $n << 20 ) }    #L destroy
sub drop { my $o = bless {}, 'Obj'; undef $o; }
drop();
sub Tied::TIESCALAR { bless {}, 'Tied' }
sub Tied::FETCH { push @keep, 't' x ( $n << 20 ); 1 }    #L tie
tie my $tied, 'Tied';
sub read_tied { my $v = $tied; }
read_tied();
sub fmt_field { push @keep, 'f' x ( $n << 20 ); "" }    #L format
format STDOUT =
@*
fmt_field()
.
write;
for (1) { { push @keep, 'm' x ( $n << 20 ); } }    #L main-blocks
our $round = 0;
my ( $warm_c, $warm_l ) = ( 0, 0 );
sub by_len { push @keep, 'w' x ( $n << 20 ) if $round == 15 && !$warm_c++; $a <=> $b }    #L sort-sub-warm
sub sort_warm {
    my @s = sort by_len 3, 1, 2;
    push @keep, 'a' x ( $n << 20 ) if $round == 15;    #L after-sort-warm
}
sub first_warm { my $f = List::Util::first( sub { push @keep, 'l' x ( $n << 20 ) if $round == 15 && !$warm_l++; $_ > 1 }, 1, 2, 3 ); }    #L first-warm
sub Warm::DESTROY { push @keep, 'v' x ( $n << 20 ) if $round == 15 }    #L destroy-warm
sub drop_warm { my $o = bless {}, 'Warm'; undef $o; push @keep, 'u' x ( $n << 20 ) if $round == 15; }    #L after-destroy-warm
# Loaded at run time, after the string evals above: loading it makes one
# of its own on some perls, which would renumber theirs.
require List::Util;
for ( 1 .. 20 ) { $round = $_; sort_warm(); first_warm(); drop_warm(); }
TRY
PERL

my $req = <<'PERL';
package Frames_Req;
push @main::keep, 'q' x ( $n << 20 );    #L require
1;
PERL
$req =~ s/\$n/1/;

# try/catch exists from 5.34 on (in the perl under test); there is no frame
# for a try block.
my ( undef, undef, $no_try ) =
    run_capture( [ perl_bin(), '-e', 'use feature "try"; no warnings; try { 1 } catch ($e) { }' ] );
my $has_try = !$no_try;
my $try = $has_try ? <<'PERL' : '';
use feature 'try';
no warnings;
sub in_try {
    try { push @keep, 'y' x ( $n << 20 ); }    #L try
    catch ($e) { die $e }
}
in_try();
PERL
$script =~ s/^TRY\n/$try/m;

my %expect = (
    'grow'         => 'main;main::in_loops;main::grow',
    'eval-block'   => 'main;main::in_eval_block',
    'string-eval'  => 'main;(eval 1)[t.pl:13]',
    'eval-inner'   => 'main;main::eval_then_sub;(eval 2)[t.pl:14];main::inner',
    'require'      => 'main;Frames_Req.pm',
    'sort-sub'     => 'main;main::sort_named;main::by_num',
    'sort-block'   => 'main;main::sort_block',
    'regex'        => 'main;main::in_regex',
    'destroy'      => 'main;main::drop;Obj::DESTROY',
    'tie'          => 'main;main::read_tied;Tied::FETCH',
    'format'       => 'main;format main::STDOUT;main::fmt_field',
    'main-blocks'  => 'main',
    # Called again and again, so that the runloop resolves them from its
    # memos rather than the recorder: frames of a stackinfo of their own,
    # and the caller's after they return.
    'sort-sub-warm'      => 'main;main::sort_warm;main::by_len',
    'after-sort-warm'    => 'main;main::sort_warm',
    'first-warm'         => 'main;main::first_warm;main::__ANON__[t.pl:FIRST]',
    'destroy-warm'       => 'main;main::drop_warm;Warm::DESTROY',
    'after-destroy-warm' => 'main;main::drop_warm',
    $has_try ? ( 'try' => 'main;main::in_try' ) : (),
);

my $dir = tempdir( CLEANUP => 1 );
write_file( "$dir/Frames_Req.pm", $req );
write_file( "$dir/t.pl", $script );
# Run as t.pl, which is how string evals name the file they were called from.
my ( $p, $out, $err, $status ) = profile_script( 't.pl', perl_args => ['-I.'], dir => $dir, cwd => $dir );
is( $status, 0, 'the script ran' ) or diag $err;
is( $err, '', 'without warnings' );
conservation_ok( $p, 'frames' );

my %line_of;
for my $file ( [ 't.pl', $script ], [ 'Frames_Req.pm', $req ] ) {
    my $no = 0;
    for ( split /\n/, $file->[1] ) {
        $no++;
        $line_of{$1} = [ $file->[0], $no ] if /#L (\S+)$/;
    }
}
is_deeply( [ sort keys %line_of ], [ sort keys %expect ], 'every case is marked once' );
# The sub given to List::Util's first (which calls it with MULTICALL) is
# an anonymous sub, named by its line.
$expect{'first-warm'} =~ s/FIRST/$line_of{'first-warm'}[1]/;
# A string eval's statements are in a file of its own, named after its caller.
$line_of{'string-eval'} = [ '(eval 1)[t.pl:13]', 1 ];

for my $case ( sort keys %expect ) {
    my ( $file, $line ) = @{ $line_of{$case} };
    # The stacks that allocated the marked line's megabyte as it ran (what
    # compiling the line cost is its compile frame's).
    my @big = grep {
        $_->{file} =~ m{(^|/)\Q$file\E\z} && $_->{line} == $line && $_->{alloc_bytes} >= 1 << 20
            && $_->{frames}[-1] !~ /^compile /
    } @{ $p->{stacks} };
    is( join( ' | ', map { join ';', @{ $_->{frames} } } @big ), $expect{$case}, "$case ($file:$line)" );
}

done_testing;
