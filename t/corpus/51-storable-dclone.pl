# Exercises: Storable dclone of nested data, independence of the copy, freeze/thaw of blessed objects
use strict;
use warnings;
use Storable qw(dclone freeze thaw nstore retrieve);

my $data = {
    users => [ map { { id => $_, name => "user$_", roles => [ map { "role$_" } 1 .. $_ % 4 ], prefs => { theme => $_ % 2 ? "dark" : "light", size => $_ } } } 1 .. 300 ],
    meta  => { version => 3, tags => [qw(a b c)], nested => { deep => { deeper => [ 1 .. 50 ] } } },
};
$data->{meta}{self_list} = $data->{meta}{tags};
my $copy = dclone($data);
$copy->{users}[0]{name} = "changed";
push @{ $copy->{meta}{tags} }, "d";
print "original name: $data->{users}[0]{name}, copy name: $copy->{users}[0]{name}\n";
print "original tags: @{ $data->{meta}{tags} }, copy tags: @{ $copy->{meta}{tags} }\n";
print "shared ref preserved in copy: ", ($copy->{meta}{self_list} == $copy->{meta}{tags} ? "yes" : "no"), "\n";
print "deeper sum: ", eval { my $s = 0; $s += $_ for @{ $copy->{meta}{nested}{deep}{deeper} }; $s }, "\n";
my $roles = 0;
$roles += @{ $_->{roles} } for @{ $copy->{users} };
print "roles in copy: $roles\n";

package Point { sub new { my ($c, %a) = @_; bless {%a}, $c } sub str { "($_[0]{x},$_[0]{y})" } }
my @points = map { Point->new(x => $_, y => $_ * $_) } 1 .. 50;
my $cloned = dclone(\@points);
print "cloned class: ", ref($cloned->[0]), " str: ", $cloned->[9]->str, "\n";
my $thawed = thaw(freeze({ points => \@points }));
print "thawed points: ", scalar(@{ $thawed->{points} }), " last: ", $thawed->{points}[-1]->str, "\n";
my @copies = map { dclone($data->{meta}) } 1 .. 20;
print "copies: ", scalar(@copies), " each with ", scalar(@{ $copies[0]{nested}{deep}{deeper} }), " items\n";
warn "dclone done\n";
