# Exercises: local $SIG{__DIE__} and local $SIG{__WARN__} hooks, nested and restored
use strict;
use warnings;

my (@warnings, @dies);
sub noisy {
    my $n = shift;
    warn "warning number $n\n";
    die "death number $n\n" if $n % 4 == 0;
    return "ok $n";
}

{
    local $SIG{__WARN__} = sub { push @warnings, "captured: " . join('', @_) };
    local $SIG{__DIE__}  = sub { push @dies, "die hook: " . join('', @_) };
    for my $i (1 .. 12) {
        my $r = eval { noisy($i) };
        push @warnings, defined $r ? "result $r\n" : "eval error $@";
    }
    {
        local $SIG{__WARN__} = sub { push @warnings, "inner: $_[0]" };
        warn "from inner scope\n";
    }
    warn "back in outer scope\n";
}
print for @warnings;
print for @dies;
warn "hooks restored; this goes to real STDERR\n";
local $SIG{__WARN__} = sub { print STDERR "rewritten: ", uc $_[0] };
warn "lowercase text\n";
my $x = eval { local $SIG{__DIE__} = sub { die "wrapped(" . $_[0] =~ s/\n//r . ")\n" }; die "original\n" };
print "final \$\@: $@";
