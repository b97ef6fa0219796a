#!/bin/bash
# Runs a shell script as root inside a Debian 12 VM that boots with systemd as PID 1 on
# pure cgroup v2, with mycr at /bin/mycr:  test/vm/run-in-debian.sh SCRIPT [FILE...]
#
# The image is built once by debian/build-image.sh and cached (keyed by its recipe); each
# run boots it with qemu on a throw-away snapshot, so runs never change it. The script and
# FILEs reach the guest on a second disk mounted at /files; a systemd unit
# (debian/mycr-test.service) runs the script once the system is up. The guest's console
# is streamed to stdout; the exit status is the script's (its "MYCR-VM-EXIT=<code>"
# line), 124 on timeout, 125 if that line never came. See test/vm/README.md.
set -euo pipefail

me=run-in-debian
die() { echo "$me: $*" >&2; exit 2; }
say() { echo "$me: $*" >&2; }

[ $# -ge 1 ] || die "usage: $0 SCRIPT [FILE...]"
script=$1
shift
[ -f "$script" ] || die "no such script: $script"
for f in "$@"; do [ -e "$f" ] || die "no such file: $f"; done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
mycr_bin=${MYCR_BIN:-$repo/dist/mycr}
vm_timeout=${MYCR_VM_TIMEOUT:-600}
vm_mem=${MYCR_VM_MEM:-2048}
vm_smp=${MYCR_VM_SMP:-2}
qemu=${MYCR_VM_QEMU:-qemu-system-x86_64}
# guest-run.sh prints it once the system is up and the script starts (boot-qemu.sh).
ready_marker=MYCR-VM-READY

[ -x "$mycr_bin" ] || die "no mycr executable at $mycr_bin (build it: npx bun build.ts, or set MYCR_BIN)"
for tool in "$qemu" mkfs.ext4 timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (see test/vm/README.md for the packages)"
done
case $vm_timeout in '' | *[!0-9]*) die "MYCR_VM_TIMEOUT must be a number of seconds" ;; esac
# Before the image build: it checks MYCR_VM_SILENCE.
# shellcheck source=boot-qemu.sh
. "$here/boot-qemu.sh"

image=$("$here/debian/build-image.sh") || die "could not build the Debian image"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mycr-debian.XXXXXX")
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  stop_vm
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The files disk: the script, mycr and the extra files, as an ext4 image.
files=$tmp/files
mkdir "$files"
cp "$script" "$files/test.sh"
cp "$mycr_bin" "$files/mycr"
for f in "$@"; do cp -a "$f" "$files/"; done
size_mb=$(($(du -sm "$files" | cut -f1) + 64))
truncate -s "${size_mb}M" "$tmp/files.img"
mkfs.ext4 -q -F -d "$files" "$tmp/files.img" >&2
rm -rf "$files"

append="root=/dev/vda rw console=ttyS0 quiet panic=-1 fsck.mode=skip systemd.show_status=error ${MYCR_VM_APPEND:-}"
say "booting $(cat "$image/recipe" | cut -d' ' -f1) from $image (timeout ${vm_timeout}s)"
# snapshot=on: the guest's writes go to a temporary file qemu drops, the cached image
# stays as built (and may be shared by VMs running side by side).
boot_vm -kernel "$image/vmlinuz" -initrd "$image/initrd.img" -append "$append" \
  -drive "file=$image/root.img,format=raw,if=virtio,snapshot=on" \
  -drive "file=$tmp/files.img,format=raw,if=virtio"
