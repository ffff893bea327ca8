package Plack::Middleware::MemProf;
use strict;
use warnings;
use parent 'Plack::Middleware';
use Plack::Util::Accessor qw(label_for);

our $VERSION = '0.1.0';

sub call {
    my ( $self, $env ) = @_;
    # Nothing to do unless the profiler is loaded (perl -d:MemProf, memprof run).
    return $self->app->($env) unless defined &Devel::MemProf::with_label;
    my $label = $self->label_for ? $self->label_for->($env) : "$env->{REQUEST_METHOD} $env->{PATH_INFO}";
    return Devel::MemProf::with_label( $label, sub { $self->app->($env) } );
}

1;

__END__

=head1 NAME

Plack::Middleware::MemProf - label each request's memory for Devel::MemProf

=head1 SYNOPSIS

    # app.psgi
    use Plack::Builder;
    builder {
        enable 'MemProf';                  # labels "GET /users/42"
        # or map paths to routes, so that every user counts as one label:
        # enable 'MemProf', label_for => sub {
        #     my $env = shift;
        #     (my $path = $env->{PATH_INFO}) =~ s{/\d+}{/:id}g;
        #     "$env->{REQUEST_METHOD} $path";
        # };
        $app;
    };

    MEMPROF=addpid=1 memprof run -- starman --workers 4 app.psgi
    memprof merge memprof.out.* -o all.out
    memprof report --by label all.out

=head1 DESCRIPTION

Runs each request under C<Devel::MemProf::with_label>, so that every
allocation the request makes, and every block it leaves behind, carries its
label: C<memprof report --by label> then says, per label, how many requests
ran, what each allocated, and what each left behind (with the lines that
allocated it). The label is C<"METHOD PATH">, or what the C<label_for>
callback returns for the PSGI environment.

When the profiler is not loaded, the middleware only calls the application.
What a streaming (delayed) response does after the application has returned
is not under the label.

=head1 SEE ALSO

L<Devel::MemProf>, L<memprof>

=cut
