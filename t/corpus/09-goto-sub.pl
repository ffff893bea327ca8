# Exercises: goto &sub tail calls, replacing the current frame
use strict;
use warnings;

sub target {
    my @args = @_;
    my $s = join '+', @args;
    return "target(" . scalar(@args) . "): " . substr($s, 0, 40) . " caller=" . ((caller(0))[3]);
}

sub trampoline {
    push @_, "extra-" . scalar(@_);
    goto &target;
}

sub countdown {
    my $n = $_[0];
    my $junk = "z" x 50;
    return "done at $n" if $n <= 0;
    @_ = ($n - 1);
    goto &countdown;
}

print trampoline(1 .. 5), "\n";
print trampoline(map { "a$_" } 1 .. 30), "\n";
print countdown(10000), "\n";
my $ref = \&target;
sub via_ref { goto $ref }
print via_ref(qw(x y z)), "\n";
warn "goto done\n";
