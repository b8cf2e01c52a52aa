#!/bin/sh
# Installs make deb's package into a clean Debian 12 root, beside the
# packaged nginx, as an operator would, and checks that nginx takes it:
# the module enabled through modules-enabled, `nginx -t` with Debian's
# own nginx.conf, then with the demo's configuration.
#
#   debootstrap --variant=minbase bookworm DIR
#   tools/deb-check.sh DIR build/deb/libnginx-mod-http-voice_*.deb
#
# Runs as root (chroot); DIR needs network access to Debian's archive.
set -e

root=$1
deb=$2

if [ ! -x "$root/bin/sh" ] || [ ! -f "$deb" ]; then
    echo "usage: tools/deb-check.sh DEBIAN-ROOT PACKAGE.deb" >&2
    exit 2
fi

top=$(cd "$(dirname "$0")/.." && pwd)
name=$(basename "$deb")

cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/$name"
rm -rf "$root/tmp/voice-demo"
mkdir -p "$root/tmp/voice-demo/logs"
ln -s /usr/lib/nginx/modules "$root/tmp/voice-demo/modules"
{
    echo 'include /etc/nginx/modules-enabled/*.conf;'
    sed '/^load_module /d' "$top/conf/demo.conf"
} > "$root/tmp/voice-demo/nginx.conf"

# what the demo's configuration names beside it (its functions)
for f in "$top"/conf/*; do
    case "$f" in
    *.conf) ;;
    *) cp "$f" "$root/tmp/voice-demo/" ;;
    esac
done

chroot "$root" /bin/sh -ec "
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nginx /tmp/$name > /tmp/voice-install.log
    echo '== installed'
    dpkg -s libnginx-mod-http-voice | grep -E '^(Version|Depends):'
    ls -l /etc/nginx/modules-enabled/ | grep voice
    echo '== nginx -t, Debian nginx.conf'
    nginx -t
    echo '== nginx -t, conf/demo.conf'
    nginx -t -p /tmp/voice-demo -c /tmp/voice-demo/nginx.conf
"
