#!/bin/sh
# --storage-opt size on a real project quota: an ext4 image (made on the host with
# mkfs.ext4 -O quota,project) on a loop device, mounted with prjquota, is MYCR_ROOT.
# Needs the guest modules "overlay loop ext4 quota_v2 crc32c_generic" and the files
# quota.img and prjquota (test/fixtures/prjquota.c, static). Run by test/disk-quota.test.ts
# through run-in-vm.sh; prints "PASS name" or "FAIL name: why" per check.
set -u
R=/tmp/r
mkdir -p $R/bin $R/etc $R/tmp
cp /bin/busybox $R/bin/
/bin/busybox --install -s $R/bin 2>/dev/null || for a in $(/bin/busybox --list); do ln -sf busybox $R/bin/$a; done
ls $R/bin/sh >/dev/null || echo "FAIL the test root has no sh"
Q=/files/prjquota
M=/mnt/q
export MYCR_ROOT=$M/mycr MYCR_STATE=/run/mycr
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
check() { # name expected actual
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2] got [$3]"; fi
}
run() { /bin/mycr run --rootfs $R --network none "$@"; }
uppers() { ls -d $MYCR_ROOT/containers/*/upper 2>/dev/null; }

mkdir -p $M
if ! mount -o loop,prjquota /files/quota.img $M; then
  echo "FAIL the ext4 image mounts with prjquota: $(dmesg | tail -n 3)"
  exit 1
fi
pass "the ext4 image mounts with prjquota"

# The attack: write 20 MiB under a 10 MiB limit.
out=$(run --storage-opt size=10m -- sh -c 'df -k / | tail -n 1 | awk "{print \$2}"; dd if=/dev/zero of=/big bs=1M count=20 2>&1 | grep -oE "Disk quota exceeded|No space left on device"; ls -l /big | awk "{print \$5}"' 2>&1)
rc=$?
set -- $out
check "df / inside shows the 10 MiB limit" "10240" "${1:-}"
case ${2:-}${3:-}${4:-}${5:-} in
  Diskquotaexceeded* | Nospaceleft*) pass "writing 20 MiB under size=10m fails with EDQUOT/ENOSPC" ;;
  *) fail "writing 20 MiB under size=10m fails with EDQUOT/ENOSPC" "[$out] rc=$rc" ;;
esac
last=$(echo "$out" | tail -n 1)
if [ "$last" -le 10485760 ] 2>/dev/null; then pass "the file stopped at the limit ($last bytes)"; else fail "the file stopped at the limit" "[$last]"; fi
check "the container exited 0" "0" "$rc"
check "its files are gone" "" "$(ls $MYCR_ROOT/containers 2>/dev/null)"
check "its project's limit was reset" "none" "$($Q get $M 1836646400 | sed 's/^limit=0 used=0$/none/')"

# While a container runs its upper dir has a project of mycr's with the limit; rm releases it.
id=$(/bin/mycr run -d --rootfs $R --network none --storage-opt size=12m -- sleep 300)
up=$MYCR_ROOT/containers/$id/upper
pid=$($Q projid $up)
check "a running container's upper dir has a project id of mycr's" "1836646400" "$pid"
check "the project's limit is the size asked for" "limit=12582912" "$($Q get $M "$pid" | cut -d' ' -f1)"
id2=$(/bin/mycr run -d --rootfs $R --network none --storage-opt size=5m -- sleep 300)
pid2=$($Q projid $MYCR_ROOT/containers/$id2/upper)
check "a second container gets a project of its own" "1836646401 limit=5242880" "$pid2 $($Q get $M "$pid2" | cut -d' ' -f1)"
check "without --storage-opt the upper dir has no project" "0" "$(
  /bin/mycr run --rootfs $R --network none -- true >/dev/null
  id3=$(/bin/mycr run -d --rootfs $R --network none -- sleep 300)
  $Q projid $MYCR_ROOT/containers/$id3/upper
  /bin/mycr rm -f "$id3" >/dev/null
)"
/bin/mycr rm -f "$id" "$id2" >/dev/null
check "rm -f resets both projects' limits" "none none" "$($Q get $M 1836646400 | sed 's/^limit=0 used=0$/none/') $($Q get $M 1836646401 | sed 's/^limit=0 used=0$/none/')"

# --keep: the files stay (the project with them), the limit goes.
out=$(run --keep --storage-opt size=8m -- sh -c 'echo kept > /kept' 2>&1)
kept=$(uppers | head -n 1)
check "--keep keeps the upper dir" "kept" "$(cat "$kept/kept" 2>/dev/null)"
kpid=$($Q projid "$kept")
check "--keep: the kept files' project has no limit left" "limit=0" "$($Q get $M "$kpid" | cut -d' ' -f1)"
rm -rf $MYCR_ROOT/containers/*

# A filesystem that accounts but does not enforce: refused in one line.
umount $M
mount -o loop /files/quota.img $M
err=$(run --storage-opt size=10m -- true 2>&1)
rc=$?
check "ext4 without prjquota: exit 125" "125" "$rc"
check "ext4 without prjquota: one line naming it" "mycr: --storage-opt size needs MYCR_ROOT on xfs or ext4 mounted with prjquota; $MYCR_ROOT is on ext4 without project quotas enforced" "$err"

check "nothing left in MYCR_ROOT" "" "$(ls $MYCR_ROOT/containers 2>/dev/null)"
check "no runtime state left" "" "$(ls $MYCR_STATE 2>/dev/null)"
umount $M
check "the loop device is released" "" "$(losetup -a 2>/dev/null)"
exit $failed
