# Exercises: tie on scalars, arrays and hashes with allocating FETCH/STORE
use strict;
use warnings;

package UpperScalar;
sub TIESCALAR { my ($c, $v) = @_; my $x = { v => $v, log => [] }; bless $x, $c }
sub FETCH { my $s = shift; push @{ $s->{log} }, "F"; uc $s->{v} }
sub STORE { my ($s, $v) = @_; push @{ $s->{log} }, "S"; $s->{v} = "$v!" }

package LogArray;
sub TIEARRAY { bless { a => [], ops => 0 }, shift }
sub FETCH { $_[0]{ops}++; $_[0]{a}[ $_[1] ] }
sub STORE { $_[0]{ops}++; $_[0]{a}[ $_[1] ] = "[$_[2]]" }
sub FETCHSIZE { scalar @{ $_[0]{a} } }
sub STORESIZE { $#{ $_[0]{a} } = $_[1] - 1 }
sub PUSH { my $s = shift; push @{ $s->{a} }, map { "<$_>" } @_ }
sub POP { pop @{ $_[0]{a} } }
sub CLEAR { @{ $_[0]{a} } = () }
sub EXTEND { }

package OrderedHash;
sub TIEHASH { bless { k => [], h => {} }, shift }
sub STORE { my ($s, $k, $v) = @_; push @{ $s->{k} }, $k unless exists $s->{h}{$k}; $s->{h}{$k} = $v }
sub FETCH { $_[0]{h}{ $_[1] } }
sub EXISTS { exists $_[0]{h}{ $_[1] } }
sub DELETE { my ($s, $k) = @_; @{ $s->{k} } = grep { $_ ne $k } @{ $s->{k} }; delete $s->{h}{$k} }
sub CLEAR { my $s = shift; $s->{k} = []; $s->{h} = {} }
sub FIRSTKEY { $_[0]{i} = 0; $_[0]{k}[0] }
sub NEXTKEY { $_[0]{k}[ ++$_[0]{i} ] }
sub SCALAR { scalar @{ $_[0]{k} } }

package main;

tie my $sc, 'UpperScalar', 'hello';
print "scalar: $sc\n";
$sc = "world $_" for 1 .. 50;
print "scalar now: $sc\n";
print "scalar log length: ", scalar @{ tied($sc)->{log} }, "\n";

tie my @arr, 'LogArray';
push @arr, $_ for 1 .. 100;
$arr[$_] = $arr[$_] . "x" for 0 .. 9;
my $popped = pop @arr;
print "array: @arr[0..4] ... size ", scalar(@arr), " popped $popped ops ", tied(@arr)->{ops}, "\n";

tie my %h, 'OrderedHash';
$h{"key$_"} = $_ * $_ for reverse 1 .. 30;
delete $h{"key$_"} for 10 .. 20;
print "hash keys in insertion order: ", join(' ', keys %h), "\n";
print "hash sum: ", eval { my $t = 0; $t += $h{$_} for keys %h; $t }, "\n";
print "exists key5: ", (exists $h{key5} ? 1 : 0), " exists key15: ", (exists $h{key15} ? 1 : 0), "\n";
untie $sc; untie @arr; untie %h;
warn "tie tests done\n";
