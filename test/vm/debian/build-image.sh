#!/bin/bash
# Builds (or finds in the cache) a Debian 12 disk image that boots with systemd as PID 1 on
# pure cgroup v2, for test/vm/run-in-debian.sh. Prints the cache directory holding
#   root.img   the ext4 root filesystem (used read-only: qemu writes to a snapshot)
#   vmlinuz    the root's own kernel
#   initrd.img the root's own initramfs (initramfs-tools, so it finds /dev/vda)
# The directory is named by a hash of this recipe (the package list and the files that go
# into the image: this script, mycr-test.service, guest-run.sh): changing the recipe builds
# a new image and removes the old ones. The test scripts a run passes in are not part of it.
set -euo pipefail

me=build-image
die() { echo "$me: $*" >&2; exit 2; }
say() { echo "$me: $*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${MYCR_TEST_VM_CACHE:-/var/cache/mycr-test-vm}
mirror=${MYCR_TEST_VM_MIRROR:-}
suite=bookworm

# What goes in. Only what the tests need: systemd as init and the bus its manager is
# reached through, a kernel with its initramfs, a static busybox for container roots.
packages=(
  systemd systemd-sysv dbus udev kmod
  linux-image-amd64 initramfs-tools zstd
  busybox-static e2fsprogs procps
  # the OCI clients that drive mycr through the systemd cgroup manager, as on users' hosts:
  # podman; containerd (its CRI, as the kubelet drives it) with the CNI plugins its pods
  # need; dockerd (docker.io)
  podman containerd containernetworking-plugins docker.io
  # rootless mycr as an ordinary user: the id map helpers, the user's systemd manager and
  # its bus (user@UID.service, /run/user/UID/bus), pasta for the default network
  uidmap dbus-user-session libpam-systemd passt
)
# The files copied into the image (the recipe, with the package list).
recipe_files=("$here/build-image.sh" "$here/mycr-test.service" "$here/guest-run.sh")

for tool in mmdebstrap mkfs.ext4 sha256sum flock; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install mmdebstrap e2fsprogs)"
done
[ "$(id -u)" = 0 ] || die "must run as root (the image's files belong to root and other users)"

# The mirror apt already uses, so only what is reachable from here is asked for.
if [ -z "$mirror" ]; then
  # Debian's archive (a URI ending in /debian), not a third party's repository.
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    grep -oE '(https?|file)://[^ ]*/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ' || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

key=$( {
  echo "$suite ${packages[*]}"
  cat "${recipe_files[@]}"
} | sha256sum | cut -c1-16)
out=$cache/$key

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one build at a time; readers wait for it
if [ -f "$out/.complete" ]; then
  touch "$out/.used"
  echo "$out"
  exit 0
fi

say "building the Debian $suite image $key from $mirror (a few minutes)"
start=$(date +%s)
rm -rf "$cache"/.build.*
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootdir=$work/root

include=$(IFS=,; echo "${packages[*]}")
# minbase: Essential and apt only; no Recommends (no firmware, no apparmor); the
# customize hooks run inside the new root after everything is installed. containerd and
# dockerd do not start at boot: the tests start them with their own settings (mycr as a
# runtime), and TCG boots faster without them.
mmdebstrap --variant=minbase --include="$include" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='echo mycr-vm > "$1/etc/hostname"' \
  --customize-hook='printf "127.0.0.1 localhost mycr-vm\n" > "$1/etc/hosts"' \
  --customize-hook='echo 6d79637274657374766d000000000001 > "$1/etc/machine-id"' \
  --customize-hook='chroot "$1" passwd -d root' \
  --customize-hook="cp $here/mycr-test.service \"\$1/etc/systemd/system/\"" \
  --customize-hook="cp $here/guest-run.sh \"\$1/usr/local/sbin/mycr-guest-run\"" \
  --customize-hook='chmod 755 "$1/usr/local/sbin/mycr-guest-run"' \
  --customize-hook='mkdir -p "$1/files"' \
  --customize-hook='chroot "$1" systemctl enable mycr-test.service' \
  --customize-hook='chroot "$1" systemctl disable containerd.service docker.service docker.socket' \
  --customize-hook='chroot "$1" systemctl mask serial-getty@ttyS0.service getty@tty1.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer systemd-networkd-wait-online.service 2>/dev/null || true' \
  "$suite" "$rootdir" "$mirror" >&2

kimg=$(find "$rootdir/boot" -name 'vmlinuz-*' | sort -V | tail -n 1)
initrd=$(find "$rootdir/boot" -name 'initrd.img-*' | sort -V | tail -n 1)
[ -n "$kimg" ] && [ -n "$initrd" ] || die "the root has no kernel or initramfs in /boot"
cp "$kimg" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"

# The ext4 image: what the root holds plus room for the tests' containers.
used_mb=$(du -sm "$rootdir" | cut -f1)
size_mb=$((used_mb + used_mb / 2 + 1024))
truncate -s "${size_mb}M" "$work/root.img"
mkfs.ext4 -q -F -L mycr-root -d "$rootdir" "$work/root.img" >&2
rm -rf "$rootdir"

rm -rf "$out"
mkdir "$out"
mv "$work/root.img" "$work/vmlinuz" "$work/initrd.img" "$out/"
echo "$suite ${packages[*]}" >"$out/recipe"
touch "$out/.complete" "$out/.used"
# Other recipes' images go once unused for two days: branches with different recipes
# share this cache, and removing an image another branch still uses would have each
# rebuild the other's (a running VM keeps its open file either way).
for old in "$cache"/*/; do
  old=${old%/}
  [ "$old" = "$out" ] && continue
  if [ -z "$(find "$old" -maxdepth 1 -name '.*' -newermt '2 days ago' -print -quit)" ]; then
    rm -rf "$old"
  fi
done
say "built $out in $(($(date +%s) - start)) s (root ${used_mb} MiB, image ${size_mb} MiB)"
echo "$out"
