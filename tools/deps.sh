#!/bin/sh
# Installs the Debian packages the build, tests and demo need, and only the
# ones that are missing, so repeated runs cost one dpkg-query.
set -e

pkgs="nginx nginx-dev libyajl-dev libssl-dev libspeexdsp-dev
      libcurl4-openssl-dev libprotocol-websocket-perl espeak-ng
      clang libclang-rt-14-dev
      libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
      libespeak-ng-dev pkg-config"

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
