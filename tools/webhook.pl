#!/usr/bin/perl

# Plays Twilio's part in answering a call: POSTs the signed voice webhook
# and prints the request and the TwiML that comes back.
#
#   webhook.pl URL AUTH_TOKEN

use strict;
use warnings;

use Digest::SHA qw(hmac_sha1_base64);
use HTTP::Tiny;

my ($url, $token) = @ARGV;
die "usage: $0 URL AUTH_TOKEN\n" unless $url && defined $token;

my @form = (
    AccountSid => 'AC00000000000000000000000000000000',
    CallSid    => 'CA' . join('', map { sprintf '%x', int rand 16 } 1 .. 32),
    CallStatus => 'ringing',
    Direction  => 'inbound',
    From       => '+15550001111',
    To         => '+15550002222',
);

my %p = @form;
my $data = $url . join '', map { $_ . $p{$_} } sort keys %p;
my $sig = hmac_sha1_base64($data, $token);
$sig .= '=' while length($sig) % 4;

print "> POST $url\n> X-Twilio-Signature: $sig\n";
print "> $_\n" for map { "$_=$p{$_}" } sort keys %p;

my $r = HTTP::Tiny->new->post_form($url, \@form,
    { headers => { 'X-Twilio-Signature' => $sig } });

print "\n< $r->{status} $r->{reason}\n";
print "< Content-Type: $r->{headers}{'content-type'}\n" if $r->{headers}{'content-type'};
print "< $r->{content}\n";

exit($r->{success} ? 0 : 1);
