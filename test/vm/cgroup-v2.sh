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
