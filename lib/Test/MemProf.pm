package Test::MemProf;

# Memory assertions for test suites, on top of Devel::MemProf::measure:
# budgets for a block (memory_ok) and leak checks that tell a cache that
# fills once from a leak (no_leaks_ok, leaked_bytes).  Test::Builder
# based, so it mixes with Test::More and Test2 tools; works under plain
# `prove`, without -d:MemProf (measure() needs only the library loaded).

use strict;
use warnings;

use Carp          qw(croak);
use Exporter      qw(import);
use File::Spec    ();
use Test::Builder ();

require Devel::MemProf;

our $VERSION = '0.1.0';

our @EXPORT    = qw(memory_ok no_leaks_ok leaked_bytes);
our @EXPORT_OK = qw(parse_size format_size);

# Where the test started: a test may chdir, and perl names its own files
# relative to where they were loaded from.
my $START_DIR = File::Spec->rel2abs( File::Spec->curdir );

# How many lines the diagnostics list.
my $TOP_LINES = 3;

# Which figure of measure() each budget of memory_ok limits.
my %FIGURE = ( max => 'peak', allocated => 'allocated', retained => 'retained' );
my %WHAT   = (
    max       => 'peak growth inside the block',
    allocated => 'allocated inside the block',
    retained  => 'still held after the block',
);

my %UNIT = ( '' => 1, b => 1, byte => 1, bytes => 1, kib => 1024, mib => 1024**2, gib => 1024**3 );

# Sizes are bytes, or a number with a binary unit.  Decimal units (kB, MB)
# are refused rather than guessed at: "10 kB" is 10,000 bytes to some
# readers and 10,240 to others.
sub parse_size {
    my ( $value, $what ) = @_;
    $what = defined $what ? " for $what" : '';
    my $shown = defined $value ? "'$value'" : 'undef';
    if ( defined $value && !ref $value && $value =~ /\A\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*\z/ ) {
        my ( $number, $unit ) = ( $1, lc $2 );
        return int( $number * $UNIT{$unit} + 0.5 ) if exists $UNIT{$unit};
    }
    croak "Test::MemProf: bad size $shown$what: give a number of bytes (4096), "
        . "or a number with KiB, MiB or GiB ('512 KiB', '2 MiB'; 1 KiB = 1024 bytes)";
}

# 1536 -> "1.5 KiB (1,536 bytes)"; under 1 KiB only bytes.
sub format_size {
    my ($bytes) = @_;
    my $sign    = $bytes < 0 ? '-' : '';
    my $abs     = abs $bytes;
    my $exact   = _commify($abs) . ( $abs == 1 ? ' byte' : ' bytes' );
    return "$sign$exact" if $abs < 1024;
    my @units = qw(KiB MiB GiB TiB);
    my $n     = $abs / 1024;
    my $unit  = shift @units;
    while ( $n >= 1024 && @units ) { $n /= 1024; $unit = shift @units }
    my $short = $n >= 100 ? sprintf( '%.0f', $n ) : $n >= 10 ? sprintf( '%.1f', $n ) : sprintf( '%.2f', $n );
    $short =~ s/\.0+\z|(\.\d*?)0+\z/$1 \/\/ ''/e;
    return "$sign$short $unit ($sign$exact)";
}

sub _commify {
    my $n = reverse int shift;
    $n =~ s/(\d{3})(?=\d)/$1,/g;
    return scalar reverse $n;
}

# Split (BLOCK, key => value ..., [name]) as the functions take them.
sub _args {
    my ( $function, $allowed, @args ) = @_;
    my $name = @args % 2 ? pop @args : undef;
    my %opt  = @args;
    for my $key ( sort keys %opt ) {
        next if grep { $_ eq $key } @$allowed;
        croak "Test::MemProf::$function: unknown option '$key' (it takes " . join( ', ', @$allowed ) . ')';
    }
    return ( $name, %opt );
}

# --- source lines for the diagnostics ---------------------------------

my %SOURCE;

sub _source_line {
    my ( $file, $line ) = @_;
    my $lines = $SOURCE{$file} ||= do {
        my @found;
        my $path = $file;
        $path = File::Spec->catfile( $START_DIR, $file ) if !-f $path && !File::Spec->file_name_is_absolute($file);
        if ( open my $fh, '<', $path ) { @found = <$fh> }
        \@found;
    };
    my $text = $lines->[ $line - 1 ];
    return '' unless defined $text;
    $text =~ s/\A\s+|\s+\z//g;
    $text = substr( $text, 0, 77 ) . '...' if length $text > 80;
    return $text;
}

# The lines of measure()'s report worth showing: this module's own lines
# only set up the call of the block.  Under -d:MemProf a line's stack goes
# on below the block, through our frames, to the test: keep what is
# inside the block, so that the same line has the same stack in each
# series of runs.
sub _user_sites {
    my ($sites) = @_;
    my $me = __FILE__;
    return map {
        my %s = %$_;
        $s{stack} =~ s/(?:\A| < )Test::MemProf::.*//s;
        \%s
    } grep { $_->{file} ne $me && $_->{line} > 0 } @$sites;
}

sub _site_lines {
    my ( $sites, $figure, $limit ) = @_;
    my @ranked = sort { $b->{$figure} <=> $a->{$figure} || $a->{file} cmp $b->{file} || $a->{line} <=> $b->{line} }
        grep { $_->{$figure} > 0 } @$sites;
    splice @ranked, $limit if @ranked > $limit;
    my @out;
    for my $s (@ranked) {
        my $blocks = exists $s->{blocks} ? " in $s->{blocks} block" . ( $s->{blocks} == 1 ? '' : 's' ) : '';
        my $text   = _source_line( $s->{file}, $s->{line} );
        push @out, sprintf '  %s%s at %s line %d%s', format_size( $s->{$figure} ), $blocks, $s->{file}, $s->{line},
            $text eq '' ? '' : ": $text";
        push @out, "      called from $s->{stack}" if defined $s->{stack} && $s->{stack} ne '';
    }
    return @out;
}

# --- memory_ok --------------------------------------------------------

sub memory_ok (&@) {
    my ( $code, @args )  = @_;
    my ( $name, %limit ) = _args( 'memory_ok', [ sort keys %FIGURE ], @args );
    croak 'Test::MemProf::memory_ok: give a budget: max => SIZE, allocated => SIZE or retained => SIZE'
        unless %limit;
    my %budget = map { $_ => parse_size( $limit{$_}, $_ ) } keys %limit;
    $name = 'memory_ok ' . join( ', ', map { "$_ $limit{$_}" } sort keys %limit ) unless defined $name;

    my $m    = Devel::MemProf::measure($code);
    my @over = grep { $m->{ $FIGURE{$_} } > $budget{$_} } grep { exists $budget{$_} } qw(max allocated retained);

    my $tb = Test::Builder->new;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = $tb->ok( !@over, $name );
    return $ok if $ok;
    my @diag;
    for my $limit (@over) {
        push @diag,
            sprintf '%s: %s, over the budget of %s', $WHAT{$limit}, format_size( $m->{ $FIGURE{$limit} } ),
            format_size( $budget{$limit} );
    }
    my @sites = _user_sites( $m->{sites} );
    if ( grep { $_ ne 'retained' } @over ) {
        my @lines = _site_lines( \@sites, 'allocated', $TOP_LINES );
        push @diag, @lines
            ? ( 'the lines that allocated most inside the block:', @lines )
            : 'no line of the program allocated inside the block';
    }
    if ( grep { $_ eq 'retained' } @over ) {
        my @held  = map { +{ %$_, blocks => $_->{retained_blocks} } } @sites;
        my @lines = _site_lines( \@held, 'retained', $TOP_LINES );
        push @diag, 'still held, by the line that allocated it:', @lines if @lines;
    }
    $tb->diag( join "\n", @diag );
    return $ok;
}

# --- leaks ------------------------------------------------------------

# The block runs once to fill its caches, then N times and 2N times, each
# series measured.  What a series still holds afterwards, of what it
# allocated, is a leak only if it grows with the number of runs: a cache
# filled by the first call, a value that each call replaces (the last one
# is held either way) and a one-off allocation in one series do not grow.
# Perl's arenas are counted apart by measure(), so a leak of plain
# scalars shows in the SV count rather than in bytes.
sub _leak_check {
    my ( $code, $runs ) = @_;
    $runs = 5 unless defined $runs;
    croak "Test::MemProf: runs must be a whole number of at least 1, not '$runs'"
        unless !ref $runs && $runs =~ /\A[1-9][0-9]*\z/;
    $code->();
    my $once  = Devel::MemProf::measure( sub { $code->() for 1 .. $runs } );
    my $twice = Devel::MemProf::measure( sub { $code->() for 1 .. 2 * $runs } );

    # What each line still holds after the longer series, less what it held after the shorter.
    my %grew;
    my $key = sub { join "\0", @{ $_[0] }{qw(file line stack)} };
    for my $s ( _user_sites( $twice->{sites} ) ) {
        my $g = $grew{ $key->($s) } ||= { %$s, retained => 0, blocks => 0 };
        $g->{retained} += $s->{retained};
        $g->{blocks}   += $s->{retained_blocks};
    }
    for my $s ( _user_sites( $once->{sites} ) ) {
        my $g = $grew{ $key->($s) } or next;
        $g->{retained} -= $s->{retained};
        $g->{blocks}   -= $s->{retained_blocks};
    }

    # Held after both series, and more after the longer one: in bytes, in
    # heap blocks or in live scalars.  Blocks count as well as bytes: a
    # buffer that grows with everything leaked so far (perl reallocates it
    # now and then) is born in one series or the other, and can make the
    # longer series hold fewer bytes than the shorter one.
    my $held_blocks = sub { my $n = 0; $n += $_->{retained_blocks} for @{ $_[0]{sites} }; $n };
    my $grows       = sub { my ( $shorter, $longer ) = @_; $shorter > 0 && $longer > $shorter };
    my $leaked =
           $grows->( $once->{retained}, $twice->{retained} )
        || $grows->( $held_blocks->($once), $held_blocks->($twice) )
        || $grows->( $once->{sv_delta},     $twice->{sv_delta} );
    my $growth = $twice->{retained} - $once->{retained};
    my @grew   = grep { $_->{retained} > 0 } values %grew;

    # When that buffer blurs the growth, half of what 2N runs held is the
    # better estimate of what N runs leak, and the lines are theirs.
    @grew = map { +{ %$_, blocks => $_->{retained_blocks} } } _user_sites( $twice->{sites} ) unless @grew;
    return {
        runs   => $runs,
        leaked => $leaked  ? 1 : 0,
        bytes  => !$leaked ? 0 : $growth > 0 ? $growth : int( $twice->{retained} / 2 ),
        svs    => $leaked && $twice->{sv_delta} > $once->{sv_delta} ? $twice->{sv_delta} - $once->{sv_delta} : 0,
        once   => $once,
        twice  => $twice,
        sites  => \@grew,
    };
}

sub leaked_bytes (&@) {
    my ( $code, %opt ) = @_;
    for my $key ( sort keys %opt ) {
        croak "Test::MemProf::leaked_bytes: unknown option '$key' (it takes runs)" unless $key eq 'runs';
    }
    return _leak_check( $code, $opt{runs} )->{bytes};
}

sub no_leaks_ok (&@) {
    my ( $code, @args ) = @_;
    my ( $name, %opt )  = _args( 'no_leaks_ok', ['runs'], @args );
    $name = 'no leaks' unless defined $name;
    my $r = _leak_check( $code, $opt{runs} );

    my $tb = Test::Builder->new;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $ok = $tb->ok( !$r->{leaked}, $name );
    return $ok if $ok;
    my ( $n, $once, $twice ) = @$r{qw(runs once twice)};
    my @diag = (
        sprintf(
            'the block leaks: %d runs leaked %s and %d scalars (%s bytes a run)',
            $n,        format_size( $r->{bytes} ),
            $r->{svs}, _commify( $r->{bytes} / $n + 0.5 )
        ),
        sprintf(
            'still held after %d runs: %s and %d scalars; after %d runs: %s and %d scalars',
            $n, format_size( $once->{retained} ),
            $once->{sv_delta}, 2 * $n, format_size( $twice->{retained} ),
            $twice->{sv_delta}
        ),
    );
    my @lines = _site_lines( $r->{sites}, 'retained', $TOP_LINES );
    push @diag, @lines
        ? ( 'the leaked bytes were allocated by:', @lines )
        : 'no line of the program allocated a heap block that is still held: the leaked scalars live in perl\'s arenas';
    $tb->diag( join "\n", @diag );
    return $ok;
}

1;

__END__

=head1 NAME

Test::MemProf - memory budgets and leak checks for test suites, with the lines that allocated

=head1 SYNOPSIS

    use Test::More;
    use Test::MemProf;

    # Peak growth inside the block must stay under 2 MiB.
    memory_ok { build_index(\@docs) } max => '2 MiB', 'indexing stays under 2 MiB';

    # Nothing allocated inside may still be held afterwards; at most 64 KiB allocated.
    memory_ok { my $r = parse($text); undef $r } retained => 0, allocated => '64 KiB';

    # Calling it again and again must not keep more and more memory.
    no_leaks_ok { my $obj = My::Class->new; $obj->run } 'My::Class does not leak';
    no_leaks_ok { handle_request($req) } runs => 20, 'requests do not leak';

    cmp_ok( leaked_bytes { my_function() }, '<', 1024, 'leaks under 1 KiB in 5 calls' );

    done_testing;

Run it as usual, C<prove -l t/>: no C<-d:MemProf> is needed.

=head1 DESCRIPTION

Test::MemProf asserts how much memory a block of code uses, and whether
calling it leaks, in bytes counted by L<Devel::MemProf>: every C<malloc> and
C<free> that perl and its XS modules make, not the size of the process. When an
assertion fails its diagnostics say the figure and which lines of the program
allocated the memory, with their source text:

    not ok 1 - no leaks
    #   Failed test 'no leaks'
    #   at t/seen.t line 20.
    # the block leaks: 5 runs leaked 200 bytes and 5 scalars (40 bytes a run)
    # still held after 5 runs: 200 bytes and 5 scalars; after 10 runs: 400 bytes and 10 scalars
    # the leaked bytes were allocated by:
    #   200 bytes in 5 blocks at t/seen.t line 12: push @seen, sprintf '%016d', $id;
    #       called from main::remember < main::__ANON__[t/seen.t:20]

It is built on L<Test::Builder>, so it works beside L<Test::More> and L<Test2>
tools, with C<prove -j>, on perls with and without threads. It loads
L<Devel::MemProf> as a plain module, which installs the allocation hooks but
writes no profile. Under C<perl -d:MemProf> it works too.

=head1 FUNCTIONS

All three are exported by default. The block comes first, written as a bare
block or as C<\&code> with C<&>: C<memory_ok(\&code, max =E<gt> '1 MiB')>.

=head2 memory_ok { BLOCK } LIMIT => SIZE, ..., $name

Runs BLOCK once and passes if every limit holds:

=over 4

=item max => SIZE

The block's peak growth: how far the live heap rose, at its highest, above
where it was when the block began. What the block allocated and freed again
counts while it was live; this is the figure that matters for "will it fit".

=item allocated => SIZE

Everything the block allocated, whether it freed it or not.

=item retained => SIZE

What the block allocated and is still allocated after it returned and its
temporaries were freed. (Arena blocks, which perl keeps for later scalars,
are not counted; see L<Devel::MemProf/arena>.)

=back

On failure the diagnostics give the figure, the budget, and the three lines
that allocated most inside the block (for C<retained>, the three lines whose
allocations are still held), each as C<file line N: source text>. The name is
optional. Returns whether the test passed.

=head2 no_leaks_ok { BLOCK } runs => N, $name

Passes unless BLOCK leaks. It calls BLOCK once, to fill whatever caches it
fills on first use, then measures N calls (default 5) and then 2N calls. Memory
is leaked when, of what those calls allocated, some is still held after each
series, and more after the longer one: it grows with the number of calls.
So these pass:

=over 4

=item * a cache filled on the first call (it is full before measuring starts);

=item * a value each call replaces (the last one is held, whatever the number of calls);

=item * a one-off allocation in one of the series (it does not grow).

=back

and these fail: a reference cycle created by each call (a hash or array that
refers to itself, a closure that captures itself), anything pushed on a global
array on each call, an XS module that forgets to free.

Bytes are counted apart from the scalars perl keeps in its arenas, so a leak
of scalars alone (C<my $x; $x = \$x>) shows as a growing count of live SVs and
0 bytes; either makes the test fail. The diagnostics give both figures, and
the lines (with their source, and the subs inside the block they ran under) that
allocated the leaked blocks, most bytes first.

=head2 leaked_bytes { BLOCK } runs => N

Runs the same check as L</no_leaks_ok> and returns the bytes leaked by N
calls (the growth from the N-call series to the 2N-call one), or 0 when the
block does not leak by that rule, for use with C<cmp_ok>. A leak of arena
scalars alone returns 0 (see above).

=head2 SIZES

A size is a number of bytes (C<4096>, C<0>) or a number and a binary unit:
C<B> or C<bytes>, C<KiB> (1024 bytes), C<MiB> (1024 KiB), C<GiB> (1024 MiB),
in any case, with or without a space: C<'512 KiB'>, C<'2MiB'>, C<'1.5 GiB'>.
Decimal units (C<kB>, C<MB>) are refused, as is anything else, with one
message: C<Test::MemProf: bad size '10 kB' for max: give a number of bytes ...>.
C<parse_size> and C<format_size> can be imported.

=head1 WHAT "LEAK" MEANS HERE

Memory the block allocated that is still allocated after it returned, and
of which there is more the more often it runs. Test::LeakTrace counts the
scalars created inside a block and still alive after it, after one warm-up
call; Test::MemoryGrowth watches the size of the process. The first is
fooled by values that each call replaces, the second by caches that fill up
and by the allocator keeping freed memory; neither says how many bytes leaked
or which line allocated them.

=head1 LIMITATIONS

=over 4

=item *

The block's lexical variables keep their string buffers for the block's next
call (perl does this for every sub), so C<memory_ok { my $s = 'x' x 1000 }
retained =E<gt> 0> fails: the buffer is held by the block itself. C<undef $s>
at the end, or use C<no_leaks_ok>, which warms the block up first.

=item *

Only what the calling thread allocates is counted, and only through the C
allocator: memory that an XS library gets with C<mmap> or from its own pool
is not seen.

=item *

Under C<-d:MemProf>, a module that installs a runloop of its own
(C<PL_runops>: Test::LeakTrace does when it is loaded, Devel::Cover) hides the
statement boundaries from the profiler: the figures stay right, the lines are
lost. Without C<-d> the block runs under Test::MemProf's runloop, and this
does not happen.

=item *

C<no_leaks_ok> calls the block 3N+1 times. A block whose leak depends on its
arguments or on the time needs its own loop.

=back

=head1 SEE ALSO

L<Devel::MemProf> (C<measure>, the profiler), L<Test::LeakTrace>,
L<Test::Memory::Cycle>, L<Test::MemoryGrowth>.

=head1 AUTHOR AND LICENSE

The Devel::MemProf developers. This library is free software; you can
redistribute it and/or modify it under the same terms as Perl itself.

=cut
