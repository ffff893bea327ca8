package Devel::MemProf;

# -d sets $^P to "everything": DB::DB before every statement, DB::sub
# around every call, every file's source kept in memory.  That would slow
# the program and distort what we measure, so turn it all off before the
# rest of this file, and the script, are compiled.
# What -d set is kept: it tells us whether to profile, or (loaded with
# `use`) only to provide measure().
BEGIN { $Devel::MemProf::UNDER_DEBUGGER = $^P; $^P = 0 }

# Nothing here loads another module (not even strict or XSLoader): the
# program must find %INC, @INC and its own imports as it would without us.

our $VERSION = '0.1.0';

{

    package DB;

    # A safety net: with -d, perl calls DB::DB if a statement was compiled
    # with debugging on before $^P was reset.
    sub DB { }
}

sub _library_path {
    my $here = __FILE__;
    my @found;
    if ( $here =~ m{^(.*)[/\\]Devel[/\\]MemProf\.pm\z}s ) {
        push @found, "$1/auto/Devel/MemProf/MemProf.so";
    }
    push @found, map {"$_/auto/Devel/MemProf/MemProf.so"} grep { !ref } @INC;
    for my $so (@found) {
        return $so if -f $so;
    }
    return undef;
}

sub _load {
    my $so = _library_path();
    defined $so
        or die "Devel::MemProf: cannot find auto/Devel/MemProf/MemProf.so beside "
        . __FILE__
        . " or in \@INC\n";

    # What XSLoader::load does, without loading XSLoader.pm.
    DynaLoader::boot_DynaLoader('DynaLoader')
        if defined &DynaLoader::boot_DynaLoader && !defined &DynaLoader::dl_error;
    my $libref = DynaLoader::dl_load_file( $so, 0 )
        or die "Devel::MemProf: cannot load $so: " . DynaLoader::dl_error() . "\n";
    my $boot = DynaLoader::dl_find_symbol( $libref, 'boot_Devel__MemProf' )
        or die "Devel::MemProf: $so has no boot_Devel__MemProf: " . DynaLoader::dl_error() . "\n";
    my $xs = DynaLoader::dl_install_xsub( 'Devel::MemProf::bootstrap', $boot, $so );
    push @DynaLoader::dl_librefs,        $libref;
    push @DynaLoader::dl_modules,        'Devel::MemProf';
    push @DynaLoader::dl_shared_objects, $so;
    return &$xs( 'Devel::MemProf', $VERSION );
}

_load();
_forget_memprof_run();
if ($Devel::MemProf::UNDER_DEBUGGER) {
    _start_profiling();
    # sigexit: write the profile, then die of the signal as we would have.
    for my $sig ( split /,/, _sigexit_signals() ) {
        $SIG{$sig} = \&_sigexit unless defined $SIG{$sig} && $SIG{$sig} ne '';
    }
    # dump_signal: a dump of the profile so far, and the run goes on.
    if ( my $sig = _dump_signal() ) {
        $SIG{$sig} = \&_dump_on_signal;
    }
}

# `memprof run` put our directory at the front of @INC (and maybe set
# MEMPROF) only so that perl could find us: now that the module and its
# library are loaded, the program gets @INC and %ENV as it would have
# without the profiler.  Only what memprof run says it added goes.
sub _forget_memprof_run {
    my $dir = delete $ENV{MEMPROF_RUN_INC};
    if ( defined $dir ) {
        for my $i ( 0 .. $#INC ) {
            next if ref $INC[$i] || $INC[$i] ne $dir;
            splice @INC, $i, 1;
            last;
        }
    }
    my $user = delete $ENV{MEMPROF_RUN_USER_MEMPROF};
    if ( delete $ENV{MEMPROF_RUN_SET_MEMPROF} ) {
        if   ( defined $user ) { $ENV{MEMPROF} = $user }
        else                   { delete $ENV{MEMPROF} }
    }
}

# threads->create clones the interpreter and calls this in the copy,
# still on the creating thread: the recorder notes where the thread was
# created, for the new thread's recorder to start from.
sub CLONE { _cloned() }

sub _sigexit {
    my ($sig) = @_;
    DB::finish_profile();
    $SIG{$sig} = 'DEFAULT';
    kill $sig => $$;
}

sub _dump_on_signal { Devel::MemProf::dump(); return }


# Defined first, so it runs after every END block of the program.
END { Devel::MemProf::_end_of_run() }

1;

__END__

=encoding UTF-8

=head1 NAME

Devel::MemProf - which lines and subs of a Perl program made memory go up, and what is still held

=head1 SYNOPSIS

    perl -d:MemProf script.pl args...      # writes ./memprof.out
    memprof report                         # top subs and lines, in sentences
    memprof flamegraph -o net.svg          # a memory flame graph
    memprof html                           # a browsable report in memprof-html/

    memprof run script.pl args...          # all of the above in one step, no install needed

    MEMPROF=file=/tmp/p.out:addpid=1 perl -d:MemProf server.pl

    # In a test: does this function leak?
    use Test::More;
    use Devel::MemProf;
    my $m = Devel::MemProf::measure(sub { my_function() });
    is($m->{retained}, 0, 'my_function frees what it allocates');

=head1 DESCRIPTION

Devel::MemProf is a memory profiler. Run a program under it and every byte that
perl allocates or frees is credited to the statement (file and line) that was
running and to the stack of subs it ran under. At the end the profile is written
to F<memprof.out>, and the L<memprof> command turns it into memory flame graphs,
text and Markdown reports, CSV, JSON, a diff between two runs and an HTML report.

=head2 How it measures, and why not RSS

The profiler counts the allocator's own calls, from inside the process: it
replaces the C<malloc>, C<calloc>, C<realloc>, C<free>, C<posix_memalign>,
C<aligned_alloc>, C<memalign> and C<valloc> entries in the global offset table of
the perl executable, of every XS module and of every library they load
(including libraries loaded later), and adds up each block's usable size
(C<malloc_usable_size>). The size of the process (RSS, VmData) moves in pages,
lags behind, and hides what perl frees back to malloc; counting allocations makes
the numbers exact and the same from run to run. The profiler's own memory is
never counted.

A statement boundary is a change of C<PL_curcop>. What is allocated or freed
between two boundaries is credited to the earlier statement, with the call stack
it ran under; allocations made while a sub is being entered belong to the calling
statement.

=head2 What the figures mean

=over 4

=item allocated, freed, net

Bytes and counts of allocations and frees, and their difference (net growth).
Also C<sv_delta>, the change in perl's count of live scalars.

=item retained

Bytes allocated at this place and still allocated when the profile was written:
the view for leaks. Needs site tracking (on by default).

=item peak

Bytes allocated at this place and live at the moment the whole heap was at its
largest: the view for "why was my process killed". Needs site tracking.

=item arena

The part of retained and peak bytes that is in blocks perl keeps once it has
them and never gives back to malloc: SV arenas, body arenas, and its stacks.
Arena blocks hold the heads and bodies of live scalars and free slots kept for
reuse, so a line's arena bytes say how many such blocks it made perl allocate,
not how much it still holds: a line that created and dropped a million scalars
leaves arena blocks behind that perl will reuse. Reports show them apart.

=back

Each line has its own figures (its statements) and inclusive ones (everything
that ran while it was on the stack: a call, a C<use>). Each sub has inclusive
figures (counted once per stack however deep it recursed) and exclusive ones.
The lines, the stacks and the subs' exclusive figures each add up to the run's
totals exactly.

=head2 Frames

Named subs are C<Pkg::name>, anonymous subs C<Pkg::__ANON__[file:line]>, string
evals C<(eval N)[file:line]>, files loaded by C<use>, C<require> or C<do FILE>
their C<%INC> name (C<Moose.pm>), BEGIN and other special blocks
C<Pkg::BEGIN@line>, the top level C<main>. XS subs have no frame of their own.
While perl compiles a file or a string eval, what the parser allocates goes to a
C<compile FILE> frame (line 0 of the file) under the statement that asked for it,
so C<use Moose;> shows as one line carrying almost everything, with beneath it
the files Moose loaded and what each statement and each compilation cost.

Places that are not statements have names in parentheses: C<(startup)> (before
the first statement), C<(exit)> (the main program's teardown and what runs
between END blocks), C<(disabled)> (while profiling was disabled),
C<(callback)> (a trace callback's own allocations) and C<(measure)>.

=head1 OPTIONS

Options go in the C<MEMPROF> environment variable as C<name=value> pairs joined
by C<:>, in the manner of C<NYTPROF>. A C<\> escapes the next character, so a
value can hold a colon (C<file=C\:/p.out>) or a backslash (C<\\>). An unknown
name or a bad value is reported once on standard error and the default is kept.

=over 4

=item file=PATH

Where to write the profile. Default F<memprof.out>, relative to the directory
the program started in. The file is written atomically (a new temporary file in
the same directory, then a rename) and never through a symlink.

=item addpid=0|1

Add C<.PID> to the file name. A forked child always does, so that no process
overwrites another's profile.

=item start=begin|init|no

When to start: C<begin> (the default) when Devel::MemProf is loaded, before the
rest of the program is compiled; C<init> at the INIT phase, after compilation;
C<no> only when the program calls C<DB::enable_profile()>.

=item sites=0|1

Remember where each live block was allocated (default 1). This gives the
retained and peak figures and the heap timeline's locations; it costs 22 to 28
bytes of memory for each live block (a 16-byte slot and a control byte in a
table kept between three fifths and three quarters full, grown a quarter at a
time) and some time
per allocation. C<sites=0> turns it off.

=item sigexit=0|1|LIST

Write the profile when a signal ends the program, then end as the signal would
have. C<1> means INT, TERM and HUP; or name the signals: C<sigexit=INT,TERM,USR1>.
A signal the program handles itself is left to the program.

=item trace=BYTES

As the program runs, print one line on standard error for each statement whose
net growth reaches BYTES, in Devel::MemoryTrace::Light's form with the sub added:

    >> 4242 main::load, t.pl (12) used 53248 bytes

C<trace=1> traces every statement that grows memory. See also
C<Devel::MemProf::set_callback> below.

=item trace_file=PATH

Write the trace lines to PATH instead of standard error.

=item sample=BYTES

Track the sites of a sample of allocations instead of every one: one per
BYTES allocated on average (Poisson sampling of bytes, as tcmalloc and Go's
heap profiler do: the interval to the next tracked allocation is drawn from
an exponential distribution). Each tracked block counts for its size divided
by the chance that a block of that size is tracked, so held and peak figures
are unbiased estimates; what was allocated and freed, and how often, stays
exact. A line holding H bytes gets about H/BYTES samples and its estimate is
off by about 1/sqrt(H/BYTES): C<sample=524288> (512 KiB, for a server that
runs for days) is good for what holds tens of megabytes, C<sample=4096> for
what holds a megabyte. C<measure()> figures are estimates too. The report
says so.

=item dump_signal=SIGNAL

On that signal (C<USR2>, C<USR1>, ...), write the profile so far to the
profile's file name with C<.N> added (N counting up from 1; after the pid
with C<addpid>) and go on: a server that has been up for a week can be
asked what it holds now, twice, and C<memprof diff FILE.1 FILE.2> shows what
grew in between. The dump is written when perl next checks for signals
(between two statements, as for any C<%SIG> handler). A dump's retained
figures are what was live when it was written. The program's own handler
for that signal, if it sets one, replaces this one.

=item native=0|1|all

Record the C call stack of every allocation made below a Perl statement and
show its C functions as frames under the statement, named C<[C] NAME>:
C<main;main::parse;t.pl:20;[C] XML::LibXML::_parse_string;[C] xmlParseDocument;[C] xmlNewNode>.
With C<1> only the frames of XS modules and the libraries they call show (an
XSUB under its Perl name); perl's own frames (C<Perl_*>, C<pp_*>) and the
profiler's are folded away. C<all> keeps perl's frames too. The stack is
unwound with libunwind (Debian's F<libunwind8>), loaded when this option is
on; without it a warning says so and no native frames are recorded.
Allocations are unwound, frees are not (they stay the freeing statement's).
It costs time at every allocation: about 2 times plain perl on an
allocation-bound program, against 1.4 to 1.8 times without it. Default 0. See
F<doc/profile.md>, "Native frames".

=item snapshot=end|0

Take a heap snapshot at the end of the run (see L</HEAP SNAPSHOTS>), at the
moment the retained figures are measured: after the program's END blocks,
before global destruction. Default C<end>: on every workload of F<bench/>
the snapshot costs under 5% of the run (measured: at most 3.5%, on
moose's 65,000 SVs and perltidy's 83,000; 0.1% on the small ones), so it is
always there for C<memprof heap>. A heap of millions of SVs takes longer
(2.4 s for 5 million, on a loaded machine); C<snapshot=0> leaves it out.

=back

=head1 FUNCTIONS

=over 4

=item DB::enable_profile([$file])

Start profiling (with C<start=no>), resume it after C<DB::disable_profile>, or,
after C<DB::finish_profile>, start a new profile. With C<$file>, write to that
file.

=item DB::disable_profile()

Stop crediting memory to statements. What moves while disabled is credited to
the C<(disabled)> pseudo-location, so the totals still add up.

=item DB::finish_profile()

Write the profile now and stop profiling (a long-running server can profile one
request this way).

=item Devel::MemProf::dump()

Write a dump of the profile so far, as C<dump_signal> does, and return its
file name (C<undef> when not profiling). Call it fully qualified:
C<dump> alone is Perl's own.

=item Devel::MemProf::snapshot([$label])

Take a heap snapshot now, labelled C<$label> (see L</HEAP SNAPSHOTS>); it is
written with the profile. It works at any statement, in a sort block, a
C<DESTROY>, a C<%SIG> handler (perl runs them between statements) or an END
block. (In a C<DESTROY>, the SVs perl is freeing at that moment are marked
free already and are not counted: the snapshot's count is then a few short
of C<PL_sv_count>.) It refuses, with a warning and no snapshot, outside a
profile (C<perl -MDevel::MemProf> without C<-d:MemProf> or C<memprof run>)
and before profiling has started (a C<BEGIN> block), in a thread other than
the main one, and during global destruction, when perl is freeing what it
would walk.

=item Devel::MemProf::label($name)

Make C<$name> the current label until the next call (C<undef>: none), and
count one run of it. Every allocation made from then on, and every block
still held at the end, is credited under the label as well as to its line:
C<memprof report --by label> and the HTML report say per label how many runs
there were, what each allocated, what each left behind, and which lines
allocated what was left. Label a server's requests by route (not by URL with
its ids: every label is kept). L<Plack::Middleware::MemProf> does it for
Plack applications.

=item Devel::MemProf::with_label($name, \&code)

Run C<code> under the label C<$name> (one run), then make the label before
current again, also when C<code> dies. Returns what C<code> returns, in the
caller's context. It is not a frame of the stacks it labels. For
Mojolicious, label each request by its route's name:

    hook around_action => sub {
        my ( $next, $c, $action, $last ) = @_;
        return $next->() unless $last && defined &Devel::MemProf::with_label;
        return Devel::MemProf::with_label(
            $c->req->method . ' ' . $c->match->endpoint->name, $next );
    };

=item Devel::MemProf::current_label()

The current label, or C<undef>.

=item Devel::MemProf::mark($label)

Label this moment on the heap timeline (C<memprof timeline>).

=item Devel::MemProf::set_callback(\&callback)

Call C<callback($package, $file, $line, $bytes)> instead of printing a trace
line, for each statement whose growth reaches the C<trace> threshold (1 if not
set). What the callback itself allocates is credited to C<(callback)>, not to
any line of the program. C<set_callback(undef)> removes it.

=item Devel::MemProf::measure(\&code)

Run C<code> and return a hash of what it did: C<allocated> and C<allocations>,
C<freed> and C<frees>, C<net>, C<retained> (bytes it allocated that are still
allocated after it returned and its temporaries were freed) and
C<retained_arena> (arena blocks, stacks and the shared string table's
buckets it caused perl to allocate or grow, which perl keeps: reported apart),
C<peak> (how far the live heap rose above where it was when the code began, at
its highest), C<sv_delta> (the change in the number of live scalars) and
C<sites>, a list of the lines that allocated inside the code, each a hash of
C<file>, C<line>, C<allocated> (bytes it allocated inside the code),
C<retained> and C<retained_blocks> (of those, what is still allocated, arenas
apart) and C<stack> (the subs it ran under inside the code, innermost first,
joined by C<< " < " >>; under C<-d:MemProf>, down to the program's top level).
It works without C<-d>: load
the module with C<use Devel::MemProf;>, and no profile is written. A C<die>
inside the code propagates after the measurement. L<Test::MemProf> builds
test assertions on it.

    use Test::More;
    use Devel::MemProf;

    sub make_node { my $n = { data => 'x' x 1000 }; $n->{self} = $n; return }  # a cycle
    my $m = Devel::MemProf::measure(\&make_node);
    is($m->{retained}, 0, 'make_node does not leak')
        or diag "it leaked $m->{retained} bytes";

Perl keeps the buffers of a sub's lexical variables for its next call, so call
the code once before measuring it if you want to see only what it leaks.

=back

=head1 READING THE FLAME GRAPHS

Each box is a frame; its width is the bytes of the chosen metric allocated
under it (C<net>, C<alloc>, C<retained> or C<peak>). The root is all of them, the
frames above a frame are what it called, and with C<--lines> the topmost boxes
are the statements. Stacks whose net growth is negative (they freed more than
they allocated) cannot be drawn; the subtitle says how much they freed. Hover
over a box for its size (in binary units: 1 KiB = 1024 bytes), click to zoom,
search with the button at the top right.

=head1 FORK, THREADS, EXEC, SIGNALS

A forked child profiles into a file of its own (the file name with C<.PID>
added), counting from the fork; C<memprof merge> adds the profiles of a
preforking server's workers together. A child that execs before running any
statement (C<system>, backticks) writes none. Before C<exec> and
C<POSIX::_exit> the profile is written. C<exit> inside BEGIN and C<die> inside
END are handled as usual: END blocks run, the profile is written after them.

Threads (ithreads) are profiled, into the one profile of the process. Each
thread's stacks start at a frame C<thread N> (N as C<< threads->tid >> gives it)
under the statement that created it, so that the C<< threads->create >> line
shows the thread's cost the way C<use Moose;> shows its modules. Destroying a
joined thread's interpreter is the C<join> line's work: frees of what the thread
allocated. A block one thread allocates and another frees (a C<Thread::Queue>
hand-off, C<threads::shared> data) is freed from the allocating line's retained
figure. Threads still running or detached at the end are in the profile up to
then. Allocations of OS threads that run no perl (a C library's workers) are
counted under C<(native thread)>. C<memprof report> and the HTML report give a
line per thread, and C<--thread N> shows one thread's stacks in any view.

The allocation hooks take no lock; once a thread exists, each thread's site
table takes a lock of its own on every tracked allocation and free (uncontended
but for frees of another thread's blocks), and a free of a block the thread did
not allocate searches the other threads' tables. A forked child writes only its
own threads; a child forked from a thread other than the main one writes no
profile. C<trace> and C<set_callback> trace the main thread only.

=head1 HEAP SNAPSHOTS

The profile says which line allocated what is still held; a snapshot says
which variable holds it, and joins the two. It walks perl's data from its
roots, in the order of the shortest path to each value: the main program's
file-scope lexicals, the symbol tables from C<%main::> down (every glob's
scalar, array, hash, code, IO and format), the lexicals of every sub (each
recursion depth's pad), closures' captured variables, the subs on the call
stack, the argument and mortal stacks, perl's own SVs and the shared string
table. A value with several owners goes to the first path found and is
counted as shared there. Then it sweeps perl's arenas: a live SV nothing
reached is I<unreachable> (a reference cycle, or a leaked reference count),
grouped by type and by the line that allocated its first buffer.

Paths are named as Perl code writes them: C<%main::cache{alice}{history}>,
C<@Foo::list[3]>, C<my %cache (demo.pl:8)> for a file-scope lexical,
C<&main::foo → my $var (depth 3)> for a pad, C<&main::counter → $n (captured)>,
C<*main::STDOUT{IO}>. Sizes are exact: every malloc'd block an SV owns at its
C<malloc_usable_size> (string buffers, a copy-on-write buffer once, array
storage, hash bucket arrays and keys, a key shared by several hashes under the
first, magic, compiled regexes with their pattern, program, data and the copy
of the string they last matched, a sub's pads, pad names and op tree (its op
slabs, once for a closure and its prototype; the main program's under it), a
handle's PerlIO layers and buffers), plus the SV's head and body in the
arenas, shown apart as "arena". Every byte is counted once; the snapshot's
totals add up to the live heap: what reached SVs own, what unreachable ones
own, the arena and stack blocks, and the blocks no SV owns (the
interpreter's structures, the op trees of string evals and freed subs, the
handle table). Each path's bytes are split by the line and stack that
allocated them, through the site table.

A path's children beyond the largest 100 are summed into one
(C<(999,900 more keys): 175 MiB in 4,999,500 SVs>), and a snapshot keeps at
most 5,000 paths, so it stays small in the profile whatever the heap. The
walk writes nothing to perl's data and allocates nothing through perl or
malloc (its memory is mapped for it and given back): 1.8 to 2.4 s and
18 MiB, 6% of the heap, for a hash of a million keys holding small arrays (5
million SVs; F<bench/heap-snapshot.pl>). Values that C<local> saved are not
roots (they count as unreachable until the scope ends); a snapshot walks
the interpreter of the thread that takes it; under C<sample=> the lines are
not known; with C<sites=0> only the bytes are.

    memprof heap                       # the last snapshot: tree, census, unreachable
    memprof heap --by line             # for each line, the paths holding its bytes
    memprof diff --heap a.out b.out    # what grew, by path
    memprof folded --heap | inferno-flamegraph > heap.svg

=head2 The ledger: why the process is bigger than its data

Each snapshot also takes a ledger: where the process's data segment (VmData
in F</proc/self/status>) and its anonymous resident memory (RssAnon) go, in
rows that add up to them exactly. It reads F</proc/self/status>,
F</proc/self/smaps> and malloc's C<mallinfo2()> once, into buffers on the
stack, so that measuring changes nothing it measures. The rows: perl's data
reached from names, the unreachable SVs, perl's own structures (op trees,
pads, stacks, the interpreter), free slots in the SV arenas, blocks
allocated before profiling began, the profiler's own memory, malloc's chunk
overhead (chunk size less usable size), its free chunks (fragmentation) and
top pad, the writable data of the executable and libraries, thread stacks,
other anonymous mappings, and what is left: C<unexplained>, signed. Blocks
malloc got with mmap count in the rows of what holds them. C<memprof heap>
and C<memprof report> open with it in a sentence:

    The process's data segment is 227 MiB: perl's data 119 MiB (of it 142 KiB
    free arena slots), malloc's free chunks 99.3 MiB, chunk overhead 816 KiB,
    the profiler 8.42 MiB, libraries and stacks 156 KiB, other mappings
    16.0 KiB, unexplained 0 bytes.

C<memprof heap> gives both tables; C<memprof diff --heap --snapshot A
--snapshot B run.out run.out> the ledger as differences between two
snapshots, and the gap between the data's growth and VmData's. Where
F</proc> cannot be read, or the C library has no C<mallinfo2> (glibc before
2.33), the rows that need it are missing and the ledger's notes say so; the
profile is written all the same. The chunk overhead reads glibc's chunk
headers: with another malloc it is 0 and goes to the untracked row.

=head1 LIMITATIONS

The library is built against one perl (the one F<recorder/build.rs> or F<Makefile.PL>
found); it must be loaded by that perl. Linux with glibc only: the hooks use the
ELF dynamic section and C<malloc_usable_size>. Memory that XS code allocates
through its own allocator, or with C<mmap> directly, is not seen. Very deep recursion makes the JSON
document's C<stacks> list large (it grows with the square of the depth): use
C<memprof json --no-stacks>.

=head1 SEE ALSO

L<memprof>, L<Test::MemProf> (memory budgets and leak checks for tests),
L<Devel::NYTProf> (where the time goes), L<Devel::MemoryTrace::Light>
(per-statement memory from RSS), L<Devel::MAT> (what the heap holds, from a
dump), heaptrack (allocations by C stack).

=head1 AUTHOR AND LICENSE

The Devel::MemProf developers. This library is free software; you can
redistribute it and/or modify it under the same terms as Perl itself.

=cut
