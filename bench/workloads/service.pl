# A long-running service loop: decode a request, look it up in an LRU
# cache, build a response, encode it and log a line; the cache and the
# log keep a bounded amount of memory live while the rest churns.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
use JSON::PP;
my $json = JSON::PP->new->canonical;
my ( %cache, @lru, @log );
my $served = 0;
for my $n ( 1 .. 30_000 * $scale ) {
    my $req = $json->decode(qq({"user":@{[ $n % 700 ]},"path":"/item/@{[ $n % 97 ]}","q":"x$n"}));
    my $key = "$req->{user}:$req->{path}";
    my $resp = $cache{$key} //= do {
        push @lru, $key;
        delete $cache{ shift @lru } if @lru > 500;
        { user => $req->{user}, items => [ map { { id => $_, path => $req->{path} } } 1 .. 5 ] };
    };
    my $out = $json->encode( { %$resp, q => $req->{q} } );
    push @log, sprintf '%s %d %s', $req->{path}, length $out, $req->{q};
    shift @log if @log > 1_000;
    $served += length $out;
}
print "$served\n";
