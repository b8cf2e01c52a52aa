#!/bin/sh
# Installs the Debian packages a make target needs, and only the ones that
# are missing, so repeated runs cost one dpkg-query.
#
#   tools/deps.sh [--list] GROUP...
#
#   module      the module (make): nginx and its headers, yajl, OpenSSL,
#               speexdsp
#   unit        the unit tests: the pure parts' libraries
#   sim         voice-sim: those and libcurl; espeak-ng for --say
#   providers   voice-providers: pocketsphinx and its model, espeak-ng,
#               OpenSSL
#   fuzz        the fuzzers: clang and its libFuzzer runtime
#   test        what the integration tests run beside the above
#   bench       what the benchmarks run beside the above (npm, for
#               the Node bridge's ws, where nodejs lacks it: the bench)
#   deb         the Debian package (make deb): debhelper, dpkg-dev and
#               the module's build dependencies
#   all         every group
#
# --list prints the groups' packages and installs nothing.
set -e

group() {
    case "$1" in
    module)    echo nginx nginx-dev libyajl-dev libssl-dev libspeexdsp-dev ;;
    unit)      echo libyajl-dev libssl-dev libspeexdsp-dev ;;
    sim)       echo libyajl-dev libssl-dev libspeexdsp-dev \
                    libcurl4-openssl-dev espeak-ng ;;
    providers) echo libyajl-dev libssl-dev libspeexdsp-dev \
                    libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us \
                    libespeak-ng-dev pkg-config ;;
    fuzz)      echo libyajl-dev libssl-dev libspeexdsp-dev clang \
                    libclang-rt-14-dev ;;
    test)      echo nginx espeak-ng openssl perl \
                    libprotocol-websocket-perl ;;
    bench)     echo nginx espeak-ng procps nodejs linux-perf valgrind ;;
    deb)       echo nginx nginx-dev libyajl-dev libssl-dev libspeexdsp-dev \
                    debhelper dpkg-dev ;;
    all)       for g in module unit sim providers fuzz test bench deb; do
                   group $g
               done ;;
    *)         echo "deps: no group \"$1\": module, unit, sim, providers," \
                    "fuzz, test, bench, deb or all" >&2
               return 2 ;;
    esac
}

list=""
if [ "$1" = --list ]; then
    list=1
    shift
fi

if [ $# -eq 0 ]; then
    echo "usage: tools/deps.sh [--list] GROUP..." >&2
    exit 2
fi

pkgs=""
for g in "$@"; do
    pkgs="$pkgs $(group "$g")" || exit 2
done

# each package once, in order
pkgs=$(printf '%s\n' $pkgs | awk '!seen[$0]++')

if [ -n "$list" ]; then
    echo $pkgs
    exit 0
fi

missing=""
for p in $pkgs; do
    s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$s" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: run as root, or install these packages:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# policy-rc.d keeps the packaged nginx from starting on port 80: the tests
# and the demo run their own nginx under build/.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends $missing
