package VoiceAudio;

# Audio for the tests, as plain functions over byte strings: WAV files
# (PCM16LE mono), G.711 μ-law samples, and speech from espeak-ng.

use strict;
use warnings;

use Exporter 'import';

our @EXPORT_OK = qw(wav wav_pcm ulaw_linear pcm16 speak);

# a WAV file of PCM16LE mono samples at rate
sub wav {
    my ($rate, $pcm) = @_;
    return 'RIFF' . pack('V', 36 + length $pcm) . 'WAVEfmt '
        . pack('VvvVVvv', 16, 1, 1, $rate, $rate * 2, 2, 16)
        . 'data' . pack('V', length $pcm) . $pcm;
}

# (rate, samples) of a WAV file with its data chunk after fmt
sub wav_pcm {
    my ($wav) = @_;
    return (unpack('V', substr($wav, 24, 4)),
        substr($wav, index($wav, 'data') + 8));
}

# the linear value of a μ-law byte, as G.711 decodes it
sub ulaw_linear {
    my $u = ~$_[0] & 0xff;
    my $t = ((($u & 0x0f) << 3) + 0x84) << (($u & 0x70) >> 4);
    return ($u & 0x80) ? 0x84 - $t : $t - 0x84;
}

# the signed samples of PCM16LE bytes
sub pcm16 { unpack 's<*', $_[0] }

# espeak-ng says text into a WAV file (22050 Hz), at speed words a minute
sub speak {
    my ($file, $text, $speed) = @_;
    system('espeak-ng', '-s', $speed // 160, '-w', $file, $text) == 0
        or die "espeak-ng failed\n";
    return $file;
}

1;
