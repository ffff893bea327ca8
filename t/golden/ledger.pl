# The ledger's golden profile (t/87-ledger-golden.t): a heap fragmented on
# purpose between two snapshots.
Devel::MemProf::snapshot("start");
my @blocks = map { "x" x 1024 } 1 .. 20_000;
undef $blocks[$_ * 2] for 0 .. 9_999;
our %cache = map { ( "k$_" => [$_] ) } 1 .. 2_000;
Devel::MemProf::snapshot("fragmented");
