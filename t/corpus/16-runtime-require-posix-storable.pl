# Exercises: require of POSIX and Storable at run time (freeze/thaw, floor/strftime)
use strict;
use warnings;

my $data = { list => [ map { { n => $_, s => "str$_" x 3 } } 1 .. 200 ], name => "payload" };
print "POSIX loaded before: ", (defined &POSIX::floor ? "yes" : "no"), "\n";
require POSIX;
require Storable;
print "POSIX loaded after: ", (defined &POSIX::floor ? "yes" : "no"), "\n";

my $frozen = Storable::freeze($data);
my $thawed = Storable::thaw($frozen);
print "thawed list size: ", scalar @{ $thawed->{list} }, "\n";
print "thawed item 99: $thawed->{list}[99]{s}\n";
print "same name: ", ($thawed->{name} eq $data->{name} ? "yes" : "no"), "\n";

my @floors = map { POSIX::floor($_ / 7) } 1 .. 50;
print "floors: @floors[0..14]\n";
print "ceil(2.1): ", POSIX::ceil(2.1), " fmod: ", POSIX::fmod(17, 5), "\n";
my @t = gmtime(0);
print "epoch: ", POSIX::strftime("%Y-%m-%d %H:%M:%S %a", @t), "\n";
print "later: ", POSIX::strftime("%Y-%m-%d %j", gmtime(86400 * 1000)), "\n";
my @many = map { POSIX::strftime("%H:%M", gmtime($_ * 61)) } 1 .. 100;
print "many: @many[0..5]\n";
warn "runtime requires done\n";
