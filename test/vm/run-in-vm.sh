#!/bin/bash
# Runs a shell script inside a qemu VM booted with Debian's kernel and a pure cgroup v2
# hierarchy, with mycr at /bin/mycr:  test/vm/run-in-vm.sh SCRIPT [FILE...]
#
# The guest's console is streamed to stdout; the exit status is the script's (read from
# the guest's "MYCR-VM-EXIT=<code>" line), 124 on timeout, 125 if the guest never said.
# See test/vm/README.md for the environment variables and requirements.
set -euo pipefail

me=run-in-vm
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
cache=${MYCR_VM_CACHE:-/var/cache/mycr-vm}
vm_timeout=${MYCR_VM_TIMEOUT:-300}
vm_mem=${MYCR_VM_MEM:-2048}
vm_smp=${MYCR_VM_SMP:-2}
busybox=${MYCR_VM_BUSYBOX:-/bin/busybox}
# Kernel modules to load in the guest, by name (their dependencies come along).
modules=${MYCR_VM_MODULES:-overlay}
qemu=${MYCR_VM_QEMU:-qemu-system-x86_64}

[ -x "$mycr_bin" ] || die "no mycr executable at $mycr_bin (build it: npx bun build.ts, or set MYCR_BIN)"
[ -x "$busybox" ] || die "no busybox at $busybox (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked: a static one is needed (apt-get install busybox-static)"
fi
for tool in "$qemu" cpio gzip dpkg-deb flock timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (see test/vm/README.md for the packages)"
done
case $vm_timeout in '' | *[!0-9]*) die "MYCR_VM_TIMEOUT must be a number of seconds" ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mycr-vm.XXXXXX")
dl=
# shellcheck source=boot-qemu.sh
. "$here/boot-qemu.sh"
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  stop_vm
  rm -rf "$tmp"
  if [ -n "$dl" ]; then rm -rf "$dl"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The kernel: Debian's package, downloaded and extracted once into the cache. ---------

# The kernel package that linux-image-amd64 points at, e.g. linux-image-6.1.0-56-amd64.
resolve_kernel_pkg() {
  if [ -n "${MYCR_VM_KERNEL_PKG:-}" ]; then
    echo "$MYCR_VM_KERNEL_PKG"
    return
  fi
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # held while the kernel is fetched, and copied out of the cache
pkg=$(resolve_kernel_pkg || true)
if [ -z "$pkg" ]; then
  # Offline or no apt lists: use the newest kernel already in the cache.
  pkg=$(find "$cache" -mindepth 2 -maxdepth 2 -path "$cache/linux-image-*/.complete" |
    sed 's,.*/\(linux-image-[^/]*\)/\.complete$,\1,' | sort -V | tail -n 1)
  if [ -z "$pkg" ]; then
    die "cannot find the kernel package: run apt-get update (or set MYCR_VM_KERNEL_PKG)"
  fi
fi
kdir=$cache/$pkg
if [ ! -f "$kdir/.complete" ]; then
  say "downloading $pkg into $cache"
  rm -rf "$cache"/.dl.* # left by a run that was killed
  dl=$(mktemp -d "$cache/.dl.XXXXXX")
  if ! (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2); then
    die "apt-get download $pkg failed (run apt-get update?)"
  fi
  mkdir "$dl/x"
  dpkg-deb -x "$dl"/*.deb "$dl/x"
  rm -rf "$kdir"
  mkdir "$kdir"
  mv "$dl/x/boot" "$dl/x/lib" "$kdir/"
  rm -rf "$dl"
  dl=
  touch "$kdir/.complete"
  # Keep only the kernel in use (safe: other runs copy from the cache under the lock).
  for old in "$cache"/linux-image-*; do
    [ "$old" = "$kdir" ] || rm -rf "$old"
  done
fi

kimages=("$kdir"/boot/vmlinuz-*)
vmlinuz=${kimages[0]}
kver=${vmlinuz##*/vmlinuz-}
moddir=$kdir/lib/modules/$kver
if [ ! -f "$vmlinuz" ] || [ ! -d "$moddir" ]; then
  die "broken kernel cache at $kdir: remove it and retry"
fi
cp "$vmlinuz" "$tmp/vmlinuz"

# --- The initramfs. ----------------------------------------------------------------------

root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,files,newroot,lib/modules}

# Kernel modules: the named ones after their dependencies (from each module's modinfo
# "depends=", so no kmod is needed on the host).
modfile() { # NAME -> path of NAME.ko[.xz|.zst|.gz] under $moddir
  local n=$1 alt
  alt=$(echo "$n" | tr '_-' '-_')
  find "$moddir/kernel" \( -name "$n.ko*" -o -name "$alt.ko*" \) -print -quit
}
moddeps() { # FILE -> names of the modules FILE depends on
  local f=$1 cat=cat
  case $f in *.xz) cat="xz -dc" ;; *.zst) cat="zstd -dc" ;; *.gz) cat="gzip -dc" ;; esac
  $cat "$f" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '
}
: >"$root/lib/modules/load"
loaded=" "
add_module() {
  local n=$1 f d
  case $loaded in *" $n "*) return ;; esac
  loaded="$loaded$n "
  f=$(modfile "$n")
  if [ -z "$f" ]; then
    if grep -qE "/($n|$(echo "$n" | tr '_-' '-_'))\.ko" "$moddir/modules.builtin" 2>/dev/null; then
      return # built into the kernel
    fi
    die "kernel module $n not found in $moddir"
  fi
  for d in $(moddeps "$f"); do add_module "$d"; done
  case $f in
    *.xz) xz -dc "$f" >"$root/lib/modules/$n.ko" ;;
    *.zst) zstd -dc "$f" >"$root/lib/modules/$n.ko" ;;
    *.gz) gzip -dc "$f" >"$root/lib/modules/$n.ko" ;;
    *) cp "$f" "$root/lib/modules/$n.ko" ;;
  esac
  echo "$n" >>"$root/lib/modules/load"
}
for m in $modules; do add_module "$m"; done
flock -u 9
exec 9>&-

# busybox and a link for each applet.
cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
  [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# mycr and the libraries it loads, each at the exact path ldd names (the loader too).
cp "$mycr_bin" "$root/bin/mycr"
if ldd_out=$(ldd "$mycr_bin" 2>/dev/null); then
  echo "$ldd_out" | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' |
    while read -r lib; do
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
fi
# Libraries mycr opens at run time with dlopen (ldd cannot see them): libseccomp.
for name in ${MYCR_VM_DLOPEN_LIBS:-libseccomp.so.2}; do
  # awk reads to the end: quitting early would kill ldconfig with SIGPIPE, which
  # pipefail turns into the script's exit (141), at random.
  lib=$(ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n && /x86-64/ && !found { print $NF; found = 1 }')
  if [ -n "$lib" ]; then
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  fi
done

# The test and its files.
cp "$script" "$root/test.sh"
for f in "$@"; do cp -a "$f" "$root/files/"; done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo mycr-vm >"$root/etc/hostname"
echo "127.0.0.1 localhost mycr-vm" >"$root/etc/hosts"
# The kernel's built-in initramfs has /dev/console already; this is in case it does not.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# Stage 1 (PID 1 on the initramfs): pivot_root does not work on the initramfs (rootfs), so
# copy everything into a tmpfs and switch_root into it, for containers to pivot_root.
cat >"$root/init" <<'EOF'
#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t tmpfs -o mode=0755 rootfs /newroot || { echo "init: cannot mount the tmpfs root"; poweroff -f; }
for f in /* /.[!.]*; do
  case $f in /newroot | /proc | /sys | '/.[!.]*') continue ;; esac
  cp -a "$f" /newroot/
done
mkdir -p /newroot/proc /newroot/sys
exec switch_root /newroot /init2
EOF

# Stage 2 (PID 1 on the tmpfs root): mounts, pure cgroup v2, modules, then the test.
cat >"$root/init2" <<'EOF'
#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root MYCR_VM=1
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || echo "init: cannot enable the $c controller"
done
while read -r m; do
  insmod "/lib/modules/$m.ko" || echo "init: insmod $m failed"
done </lib/modules/load
hostname -F /etc/hostname
ip link set lo up 2>/dev/null
cd /
sh /test.sh </dev/null
rc=$?
sync
echo "MYCR-VM-EXIT=$rc"
poweroff -f
EOF
chmod 755 "$root/init" "$root/init2" "$root/test.sh"

initrd=$tmp/initrd.gz
gz="gzip -1"
command -v pigz >/dev/null && gz="pigz -1"
(cd "$root" && find . | cpio --quiet -o -H newc -R 0:0 | $gz) >"$initrd"
rm -rf "$root"

# --- Boot. -------------------------------------------------------------------------------

append="console=ttyS0 quiet panic=-1 rdinit=/init cgroup_no_v1=all ${MYCR_VM_APPEND:-}"
say "booting $kver ($(du -h "$initrd" | cut -f1) initramfs, timeout ${vm_timeout}s)"
boot_vm -kernel "$tmp/vmlinuz" -initrd "$initrd" -append "$append"
