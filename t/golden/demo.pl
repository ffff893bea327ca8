# The script behind t/golden/demo.out, the committed profile of the golden
# tests (t/33-golden.t).  Small, loads no module, and touches every kind of
# frame the report shows: named and anonymous subs, recursion, a BEGIN
# block, a string eval and a mark.
my @kept;
BEGIN { push @kept, 'x' x 5000 }

sub build { my ($n) = @_; return [ map { "item $_" x 10 } 1 .. $n ] }

sub nest {
    my ($depth) = @_;
    return build(50) if $depth == 0;
    my $inner = nest( $depth - 1 );
    push @$inner, 'y' x 2000;
    return $inner;
}

my $maker = sub { my %h = map { $_ => [$_] } 1 .. 200; \%h };
push @kept, nest(3);
Devel::MemProf::mark('built') if defined &Devel::MemProf::mark;
push @kept, $maker->();
my $evaled = eval q{ join ',', map { $_ * 2 } 1 .. 3000 };
push @kept, $evaled;
my $temp = build(2000);
undef $temp;
