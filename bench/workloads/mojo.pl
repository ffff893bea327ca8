# A Mojolicious::Lite app driven through Test::Mojo's user agent: routing,
# rendering JSON and templates, in one process.
my $scale = $ENV{BENCH_SCALE} || 1;    # bench/run.pl --instructions runs a tenth
use Mojolicious::Lite -signatures;
use Test::Mojo;
app->log->level('fatal');
my %users = map { ( $_ => { id => $_, name => "user$_", tags => [ 1 .. $_ % 5 ] } ) } 1 .. 200;
get '/users/:id' => sub ($c) {
    my $u = $users{ $c->param('id') } or return $c->render( status => 404, text => 'no' );
    $c->render( json => $u );
};
get '/page/:n' => sub ($c) { $c->render( inline => '<p><%= $n %>: <%= join ",", 1 .. 20 %></p>', n => $c->param('n') ) };
my $t     = Test::Mojo->new;
my $bytes = 0;
for my $i ( 1 .. 700 * $scale ) {
    $bytes += length $t->ua->get( '/users/' . ( $i % 210 ) )->result->body;
    $bytes += length $t->ua->get("/page/$i")->result->body;
}
print "$bytes\n";
