#!/bin/sh
# The cgroup assertions of test/cgroups.test.ts, on a pure cgroup v2 kernel.
# Run by test/cgroups-v2.test.ts through run-in-vm.sh; prints "PASS name" or
# "FAIL name: why" per check, and exits non-zero if any failed.
set -u
R=/tmp/r
mkdir -p $R/bin $R/etc $R/tmp
cp /bin/busybox $R/bin/
/bin/busybox --install -s $R/bin 2>/dev/null || for a in $(/bin/busybox --list); do ln -sf busybox $R/bin/$a; done
export MYCR_ROOT=/tmp/mycr-root MYCR_STATE=/run/mycr
failed=0
run() { /bin/mycr run --rootfs $R "$@"; }
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: expected [$2] got [$3]"; failed=1; fi
}

check "memory.max, memory.low and no extra swap" "67108864 33554432 0" \
  "$(run --memory 64m --memory-reservation 32m -- sh -c 'echo $(cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.low /sys/fs/cgroup/memory.swap.max)')"
check "cpu.max from --cpus" "150000 100000" "$(run --cpus 1.5 -- cat /sys/fs/cgroup/cpu.max)"
check "cpu.weight from --cpu-shares (runc's conversion)" "20" "$(run --cpu-shares 512 -- cat /sys/fs/cgroup/cpu.weight)"
check "cpuset.cpus" "1" "$(run --cpuset-cpus 1 -- cat /sys/fs/cgroup/cpuset.cpus)"
check "pids.max" "64" "$(run --pids-limit 64 -- cat /sys/fs/cgroup/pids.max)"
check "oom_score_adj" "500" "$(run --oom-score-adj 500 -- cat /proc/self/oom_score_adj)"
check "cgroup namespace rooted at the container" "0::/" "$(run -- cat /proc/self/cgroup)"
check "/sys/fs/cgroup is a read-only cgroup2 mount" "cgroup2 ro" \
  "$(run -- sh -c 'grep " /sys/fs/cgroup " /proc/self/mounts | cut -d" " -f3,4 | cut -d, -f1')"

out=$(run --memory 64m -- tail /dev/zero 2>&1); rc=$?
check "OOM kill exits 137" "137" "$rc"
case $out in
  *"was killed: out of memory (limit 64 MiB)"*) echo "PASS OOM kill is reported from memory.events" ;;
  *) echo "FAIL OOM kill is reported from memory.events: [$out]"; failed=1 ;;
esac

out=$(run --pids-limit 32 -- sh -c 'bomb() { bomb | bomb & }; bomb; exec sleep 2' 2>&1)
case $out in
  *"can't fork"*) echo "PASS a fork bomb fails under --pids-limit" ;;
  *) echo "FAIL a fork bomb fails under --pids-limit: [$out]"; failed=1 ;;
esac
check "the host still forks after the bomb" "ok" "$(echo ok)"

pct=$(run --cpus 0.5 -- sh -c 'u() { grep usage_usec /sys/fs/cgroup/cpu.stat | cut -d" " -f2; }; t() { read up _ < /proc/uptime; echo ${up%.*}${up#*.}; }; a=$(u); s=$(t); (while :; do :; done) & sleep 3; kill $!; b=$(u); e=$(t); echo $(( (b - a) / 100 / (e - s) ))')
if [ "$pct" -gt 25 ] && [ "$pct" -lt 70 ]; then echo "PASS --cpus 0.5 holds a busy loop to about half a CPU ($pct%)"; else echo "FAIL --cpus 0.5 holds a busy loop to about half a CPU: $pct%"; failed=1; fi

# Device rules: an eBPF program on the container's cgroup (v2 has no devices files).
# docker's rules under `mycr run`: the standard nodes open, CAP_MKNOD is kept (a disk's
# node can be made), but opening that node fails with EPERM.
check "mycr run: /dev/null and /dev/zero open" "ok" "$(run -- sh -c 'echo x > /dev/null && head -c1 /dev/zero > /dev/null && echo ok')"
# (in /dev: the container's /tmp is mounted nodev, where no device node opens at all)
out=$(run -- sh -c 'mknod /dev/sda b 8 0 && echo made; head -c1 /dev/sda; mknod /dev/mem c 1 1 && echo made; head -c1 /dev/mem' 2>&1)
case $out in
  *"made"*"/dev/sda: Operation not permitted"*"made"*"/dev/mem: Operation not permitted"*) echo "PASS mycr run: mknod of a disk works, opening it fails with EPERM" ;;
  *) echo "FAIL mycr run: mknod of a disk works, opening it fails with EPERM: [$out]"; failed=1 ;;
esac
# No disk 8:0 in the VM: unfiltered, opening its node reaches the kernel's ENXIO.
check "mycr run --privileged: no device rule stops a disk node" "1" "$(run --privileged -- sh -c 'mknod /dev/sda b 8 0; head -c1 /dev/sda 2>&1 | grep -c "No such device or address"')"

# /dev/kmsg is the device the bundles below are given: readable without CAP_SYSLOG.
echo 0 > /proc/sys/kernel/dmesg_restrict
# An OCI bundle as podman sends it: a deny-all rule first, then allows (/dev/kmsg read only).
B=/tmp/bundle
mkdir -p $B
bundle_config() { # resources.devices JSON, then the process args JSON
  cat > $B/config.json <<JSON
{"ociVersion": "1.2.0",
 "process": {"args": $2, "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]},
 "root": {"path": "$R"},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}],
           "devices": [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 420}],
           "resources": {"devices": $1}}}
JSON
}
PODMAN='[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]'
bundle_config "$PODMAN" '["sh", "-c", "(exec 3</dev/kmsg) && echo read-ok; (exec 4>/dev/kmsg) || echo write-denied; (exec 5</dev/null) && echo null-ok"]'
out=$(/bin/mycr run --bundle $B podman-like 2>&1); rc=$?
check "OCI bundle with a deny-all first rule runs (as podman sends it)" "0 read-ok write-denied null-ok" "$rc $(echo $out | grep -o 'read-ok\|write-denied\|null-ok' | tr '\n' ' ' | sed 's/ $//')"
case $out in
  *"/dev/kmsg: Operation not permitted"*) echo "PASS OCI bundle: the write the rules leave out fails with EPERM" ;;
  *) echo "FAIL OCI bundle: the write the rules leave out fails with EPERM: [$out]"; failed=1 ;;
esac

# update replaces the program: a deny takes the read away, then an allow gives write.
bundle_config "$PODMAN" '["sleep", "600"]'
/bin/mycr create --bundle $B upd </dev/null >/dev/null 2>&1 && /bin/mycr start upd
probe() { /bin/mycr exec upd sh -c '(exec 3</dev/kmsg) && echo r; (exec 4>/dev/kmsg) && echo w' 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
before=$(probe)
echo '{"devices": [{"allow": false, "access": "rwm"}]}' > /tmp/deny.json
/bin/mycr update --resources /tmp/deny.json upd
denied=$(probe)
echo '{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rw"}]}' > /tmp/allow.json
/bin/mycr update --resources /tmp/allow.json upd
allowed=$(probe)
check "update with new device rules replaces the program" "r||r w" "$before|$denied|$allowed"
/bin/mycr delete --force upd
check "delete removes the container's cgroup (and its program)" "" "$(find /sys/fs/cgroup -name upd)"

err=$(/bin/mycr update --resources - upd 2>&1 <<'JSON'
{"devices": [{"allow": true, "type": "x"}]}
JSON
); rc=$?
check "a bad device rule is refused with one line naming it (125)" "125 1" "$rc $(echo "$err" | grep -c 'linux.resources.devices\[0\].type')"

# linux.resources.blockIO on v2: throttles become io.max lines for a real block device (a
# loop device here), the weight io.weight on io.cost's scale (runc's conversion: 500 -> 4950).
dd if=/dev/zero of=/tmp/io-disk bs=1M count=8 2>/dev/null
loopdev=$(losetup -f) && losetup "$loopdev" /tmp/io-disk
majmin=$(cat "/sys/block/${loopdev#/dev/}/dev")
cat > $B/config.json <<JSON
{"ociVersion": "1.2.0",
 "process": {"args": ["sleep", "600"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]},
 "root": {"path": "$R"},
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}],
           "resources": {"blockIO": {"weight": 500,
             "throttleReadBpsDevice": [{"major": ${majmin%:*}, "minor": ${majmin#*:}, "rate": 1048576}],
             "throttleWriteIOPSDevice": [{"major": ${majmin%:*}, "minor": ${majmin#*:}, "rate": 100}]}}}}
JSON
/bin/mycr create --bundle $B blk </dev/null >/dev/null 2>&1
check "blockIO throttles are io.max lines of the device" "$majmin rbps=1048576 wbps=max riops=max wiops=100" "$(grep "^$majmin " /sys/fs/cgroup/mycr/blk/io.max)"
check "blockIO weight is io.weight (runc's conversion)" "default 4950" "$(head -n 1 /sys/fs/cgroup/mycr/blk/io.weight)"
/bin/mycr delete --force blk
losetup -d "$loopdev"

/bin/mycr run --rootfs $R --memory 100m -- sh -c 'while :; do :; done' & mycr_pid=$!
sleep 2
id=$(ls $MYCR_STATE | head -1)
stats=$(/bin/mycr stats --no-stream --format json "$id")
case $stats in
  *'"memoryLimit":104857600'*) echo "PASS mycr stats reads memory.max" ;;
  *) echo "FAIL mycr stats reads memory.max: [$stats]"; failed=1 ;;
esac
kill -KILL $mycr_pid; wait $mycr_pid 2>/dev/null
sleep 1
/bin/mycr gc >/dev/null
left=$(find /sys/fs/cgroup -name '*mycr*' | wc -l)
check "nothing left in /sys/fs/cgroup after gc" "0" "$left"
check "no runtime state left" "" "$(ls $MYCR_STATE 2>/dev/null)"

err=$(run --cpuset-cpus 0-7 -- true 2>&1); rc=$?
check "cpuset outside the host's CPUs is refused (125)" "125" "$rc"
exit $failed
