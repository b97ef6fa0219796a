#!/bin/sh
# The systemd cgroup driver on a real systemd host (Debian 12, systemd PID 1, cgroup v2),
# and the clients that drive mycr there: podman, containerd's CRI, dockerd.
# Run by test/systemd-vm.test.ts through run-in-debian.sh, with /files/config.json: an
# OCI config (sleep, root "rootfs", cgroupsPath system.slice:mycr:sdtest, memory 64 MiB,
# pids 50, cpu quota 50000/100000, shares 512, devices: deny all, as podman sends);
# /files/props.json: the same as system.slice:mycr:sdprop with org.systemd.property.*
# annotations; /files/cri-pod: the CRI client (test/cri/vm-main.ts, compiled). Prints
# "PASS name" or "FAIL name: why" per check and exits non-zero if any failed.
set -u
export MYCR_ROOT=/var/lib/mycr MYCR_STATE=/run/mycr
failed=0
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: expected [$2] got [$3]"; failed=1; fi
}
scopes() { # the mycr scopes systemd knows, loaded in any state
  systemctl list-units --all --type=scope --no-legend --plain 'mycr-*.scope' | awk '{ print $1 }' | tr '\n' ' '
}
# Every mycr call is bounded, so a hang is a failed check, not a VM timeout.
mycr() { timeout 180 /bin/mycr "$@"; }
pid_of() { mycr state "$1" | sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p'; }

echo "systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), PID 1 is $(cat /proc/1/comm), $(stat -f -c %T /sys/fs/cgroup)"
B=/tmp/bundle
mkdir -p $B/rootfs/bin $B/rootfs/proc $B/rootfs/dev $B/rootfs/sys $B/rootfs/tmp
cp /bin/busybox $B/rootfs/bin/
for a in sh sleep cat; do ln -s busybox $B/rootfs/bin/$a; done
cp /files/config.json $B/

# --- create/start with --systemd-cgroup: a scope with the limits ---------------------------
id=sdtest
unit=mycr-$id.scope
cg=/sys/fs/cgroup/system.slice/$unit
# create's output to a file: the container inherits stdout and keeps a $(...) pipe open.
mycr --systemd-cgroup create -b $B $id >/tmp/create.out 2>&1
check "create with --systemd-cgroup" "0 " "$? $(cat /tmp/create.out)"
mycr start $id
check "the scope is active" "active" "$(systemctl is-active $unit)"
check "init is in the scope" "0::/system.slice/$unit" "$(cat /proc/"$(pid_of $id)"/cgroup)"
check "memory.max read back from the scope" "67108864" "$(cat $cg/memory.max)"
check "pids.max read back from the scope" "50" "$(cat $cg/pids.max)"
check "cpu.max read back from the scope" "50000 100000" "$(cat $cg/cpu.max)"
check "cpu.weight read back from the scope" "20" "$(cat $cg/cpu.weight)"
check "systemd's own MemoryMax, TasksMax, CPUQuotaPerSecUSec, CPUWeight" "67108864 50 500ms 20" \
  "$(systemctl show -P MemoryMax $unit) $(systemctl show -P TasksMax $unit) $(systemctl show -P CPUQuotaPerSecUSec $unit) $(systemctl show -P CPUWeight $unit)"
check "the scope is delegated" "yes" "$(systemctl show -P Delegate $unit)"
check "systemctl status shows the container's process" "yes" \
  "$(systemctl status $unit --no-pager 2>&1 | grep -q 'sleep 1000' && echo yes || echo no)"

# --- device rules: systemd's DevicePolicy/DeviceAllow, and enforced -------------------------
check "devices deny-all + allows become DevicePolicy=strict" "strict" "$(systemctl show -P DevicePolicy $unit)"
allow=$(systemctl show -P DeviceAllow $unit)
case $allow in
  *"/dev/char/1:3 rwm"*"char-pts rwm"* | *"char-pts rwm"*"/dev/char/1:3 rwm"*) echo "PASS DeviceAllow lists /dev/null and the pts" ;;
  *) echo "FAIL DeviceAllow lists /dev/null and the pts: [$allow]"; failed=1 ;;
esac
out=$(mycr exec $id /bin/busybox sh -c 'busybox mknod /dev/mem1 c 1 1 && busybox head -c1 /dev/mem1 >/dev/null; echo null >/dev/null && echo null-ok' 2>&1)
case $out in
  *"Operation not permitted"*null-ok*) echo "PASS a device outside the list cannot be opened, /dev/null can" ;;
  *) echo "FAIL a device outside the list cannot be opened, /dev/null can: [$out]"; failed=1 ;;
esac

# --- update: through systemd and the files ---------------------------------------------------
mycr --systemd-cgroup update --memory 128m --pids-limit 70 $id
check "update --memory changes memory.max" "134217728" "$(cat $cg/memory.max)"
check "update --pids-limit changes pids.max" "70" "$(cat $cg/pids.max)"
check "update reaches systemd (MemoryMax, TasksMax)" "134217728 70" \
  "$(systemctl show -P MemoryMax $unit) $(systemctl show -P TasksMax $unit)"
systemctl daemon-reload
check "the limits survive a daemon-reload" "134217728 70" "$(cat $cg/memory.max) $(cat $cg/pids.max)"

# --- delete: the scope is gone ----------------------------------------------------------------
mycr kill $id KILL
sleep 1
mycr delete $id
check "delete leaves no scope" "" "$(scopes)"
check "delete leaves no cgroup" "no" "$([ -e $cg ] && echo yes || echo no)"

# --- delete --force of a running container ---------------------------------------------------
mycr --systemd-cgroup create -b $B $id </dev/null >/dev/null && mycr start $id
check "a second scope is active" "active" "$(systemctl is-active $unit)"
mycr delete --force $id
check "delete --force leaves no scope" "" "$(scopes)"
check "delete --force leaves no cgroup" "no" "$([ -e $cg ] && echo yes || echo no)"

# --- a nested slice and an empty slice ---------------------------------------------------------
sed 's/"system.slice:mycr:sdtest"/"mycr-test.slice:mycrt:nest"/' $B/config.json >$B/nested.json
mkdir -p /tmp/nested && cp $B/nested.json /tmp/nested/config.json && ln -s $B/rootfs /tmp/nested/rootfs
mycr --systemd-cgroup create -b /tmp/nested nest </dev/null >/dev/null && mycr start nest
check "a-b.slice nests in a.slice" "0::/mycr.slice/mycr-test.slice/mycrt-nest.scope" "$(cat /proc/"$(pid_of nest)"/cgroup)"
mycr delete --force nest
check "the nested scope is gone" "inactive" "$(systemctl is-active mycrt-nest.scope)"

# --- a failure after the scope exists leaves nothing ------------------------------------------
sed 's/"limit": 50/"limit": 50}, "unified": {"no.such.file": "1"/' $B/config.json >/tmp/bad.json
mkdir -p /tmp/bad && cp /tmp/bad.json /tmp/bad/config.json && ln -s $B/rootfs /tmp/bad/rootfs
mycr --systemd-cgroup create -b /tmp/bad bad >/tmp/bad.out 2>&1; rc=$?
out=$(cat /tmp/bad.out)
check "a setting the kernel refuses fails create" "125" "$rc"
echo "  ($out)"
check "the failed create leaves no scope" "" "$(scopes)"

# --- a bad cgroupsPath is refused in one line ---------------------------------------------------
sed 's/"system.slice:mycr:sdtest"/"\/plain\/path"/' $B/config.json >/tmp/plain.json
mkdir -p /tmp/plain && cp /tmp/plain.json /tmp/plain/config.json && ln -s $B/rootfs /tmp/plain/rootfs
mycr --systemd-cgroup create -b /tmp/plain plain >/tmp/plain.out 2>&1
out=$(cat /tmp/plain.out)
case $out in
  *'must be "slice:prefix:name"'*) echo "PASS a plain cgroupsPath is refused: $out" ;;
  *) echo "FAIL a plain cgroupsPath is refused: [$out]"; failed=1 ;;
esac

# --- org.systemd.property.* annotations: extra properties of the scope ------------------------
mkdir -p /tmp/props && cp /files/props.json /tmp/props/config.json && ln -s $B/rootfs /tmp/props/rootfs
mycr --systemd-cgroup create -b /tmp/props sdprop >/tmp/props.out 2>&1
check "create with org.systemd.property.* annotations" "0 " "$? $(cat /tmp/props.out)"
mycr start sdprop
u=mycr-sdprop.scope
check "annotation TimeoutStopSec=42 is systemd's TimeoutStopUSec" "42s" "$(systemctl show -P TimeoutStopUSec $u)"
check "annotation CollectMode='inactive-or-failed'" "inactive-or-failed" "$(systemctl show -P CollectMode $u)"
check "annotation MemoryHigh=uint64 104857600, in systemd and in memory.high" "104857600 104857600" \
  "$(systemctl show -P MemoryHigh $u) $(cat /sys/fs/cgroup/system.slice/$u/memory.high 2>&1)"
check "annotation IOAccounting=true" "yes" "$(systemctl show -P IOAccounting $u)"
mycr delete --force sdprop
check "the annotated scope is gone" "" "$(scopes)"

# --- mycr run on a systemd host: a scope of its own, chosen automatically --------------------
/bin/mycr run --rootfs $B/rootfs --memory 32m -- sleep 4 &
run_pid=$!
n=0
while [ -z "$(scopes)" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
s=$(scopes)
case $s in
  "mycr-"*".scope ") echo "PASS mycr run puts the container in a scope ($s)" ;;
  *) echo "FAIL mycr run puts the container in a scope: [$s]"; failed=1 ;;
esac
s=${s% }
check "mycr run's scope has --memory" "33554432" "$(cat /sys/fs/cgroup/system.slice/$s/memory.max 2>&1)"
wait $run_pid
check "mycr run exits 0" "0" "$?"
check "mycr run leaves no scope" "" "$(scopes)"

# a detached container (its monitor runs it) gets a scope too; rm -f takes it away
did=$(mycr run -d --rootfs $B/rootfs -- sleep 100 2>/dev/null)
check "mycr run -d puts the container in a scope" "mycr-$did.scope" "$(scopes | tr -d ' ')"
# with the supervisor up, a foreground run is served by it (docs/run.md): a scope of its own all the same
# (the first run -d returns once its container runs; the supervisor made for it listens a moment later)
n=0
while [ ! -S "$MYCR_ROOT/supervisor.sock" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
MYCR_TRACE=1 mycr run --rootfs $B/rootfs --memory 32m -- cat /sys/fs/cgroup/memory.max >/tmp/served.out 2>/tmp/served.err
check "a run with the supervisor up is served by it" "0 1" "$? $(grep -c 'served: exit' /tmp/served.err)"
check "the served run's scope has --memory" "33554432" "$(cat /tmp/served.out)"
check "the served run leaves only the detached container's scope" "mycr-$did.scope" "$(scopes | tr -d ' ')"
mycr rm -f "$did" >/dev/null
check "mycr rm -f leaves no scope" "" "$(scopes)"

MYCR_CGROUP_MANAGER=cgroupfs /bin/mycr run --rootfs $B/rootfs -- sleep 3 &
run_pid=$!
sleep 2
check "MYCR_CGROUP_MANAGER=cgroupfs: no scope" "" "$(scopes)"
wait $run_pid

# --- gc after a killed mycr run -----------------------------------------------------------------
/bin/mycr run --rootfs $B/rootfs -- sleep 100 &
run_pid=$!
n=0
while [ -z "$(scopes)" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
kill -KILL $run_pid
wait $run_pid 2>/dev/null
mycr gc >/dev/null
check "gc after a killed mycr run leaves no scope" "" "$(scopes)"
check "no mycr scope's cgroup left anywhere" "" "$(find /sys/fs/cgroup -name 'mycr*.scope' | tr '\n' ' ')"
check "no runtime state left" "" "$(ls $MYCR_STATE 2>/dev/null)"
check "no failed units" "" "$(systemctl list-units --failed --no-legend --plain | awk '{ print $1 }' | tr '\n' ' ')"

# --- podman with its default configuration (systemd cgroup manager), mycr as its runtime ----
check "podman's cgroup manager is systemd" "systemd" "$(timeout 120 podman info --format '{{.Host.CgroupManager}}' 2>&1)"
I=/tmp/image
mkdir -p $I/bin $I/proc $I/dev $I/sys $I/tmp $I/etc
cp /bin/busybox $I/bin/
for a in sh echo cat sleep; do ln -s busybox $I/bin/$a; done
tar -C $I -cf /tmp/image.tar .
timeout 120 podman import -q /tmp/image.tar localhost/bb >/dev/null
P="timeout 120 podman --runtime /bin/mycr"
check "podman --runtime mycr run --rm" "hello" "$($P run --rm --network none localhost/bb echo hello 2>&1)"
check "podman --memory reaches the container's cgroup" "67108864" \
  "$($P run --rm --network none --memory 64m localhost/bb cat /sys/fs/cgroup/memory.max 2>&1)"
cid=$($P run -d --network none --pids-limit 40 localhost/bb sleep 100 2>&1)
pscope=$(systemctl list-units --type=scope --no-legend --plain "libpod-$cid.scope" | awk '{ print $1 }')
check "podman's container is in its libpod scope" "libpod-$cid.scope" "$pscope"
check "the scope has --pids-limit" "40" "$(cat /sys/fs/cgroup/machine.slice/libpod-$cid.scope/pids.max 2>&1)"
$P rm -f -t 0 "$cid" >/dev/null 2>&1
check "podman rm leaves no libpod scope" "" \
  "$(systemctl list-units --all --type=scope --no-legend --plain 'libpod-*.scope' | awk '{ print $1 }' | tr '\n' ' ')"

# --- containerd's CRI, SystemdCgroup = true, driven as the kubelet does (test/cri) -----------
# cri-pod starts its own containerd (state in /run/mycr-cri), prints "PASS cri: ..." lines.
if ! timeout 600 /files/cri-pod; then
  failed=1
  echo "cri-pod failed; containerd's log ends:"; tail -n 25 /run/mycr-cri/containerd.log
  ps -eo pid,ppid,etime,args | grep -E 'containerd|mycr|httpd|sleep' | grep -v grep
fi
check "cri: no pod scope left" "" \
  "$(systemctl list-units --all --type=scope --no-legend --plain 'cri-containerd-*.scope' | awk '{ print $1 }' | tr '\n' ' ')"
systemctl stop mycrcri.slice
check "cri: no containerd left" "" "$(pgrep -a containerd)"

# --- dockerd (Debian's docker.io) with mycr as an added runtime -------------------------------
mkdir -p /etc/docker
# no bridge or iptables: the containers run with --network none, as podman's above
printf '{ "runtimes": { "mycr": { "path": "/bin/mycr" } }, "iptables": false, "bridge": "none" }\n' >/etc/docker/daemon.json
timeout 240 systemctl start docker.service
check "dockerd is running" "active" "$(systemctl is-active docker.service)"
D="timeout 120 docker"
# The guest's kernel has AppArmor but not its userspace (no apparmor_parser): docker would
# refuse to load its default profile, so its containers run unconfined, as the guest lacks it.
U="--security-opt apparmor=unconfined"
check "docker's cgroup driver is systemd" "systemd" "$($D info --format '{{.CgroupDriver}}' 2>&1)"
$D import /tmp/image.tar localhost/bb >/dev/null 2>&1
check "docker run --runtime mycr --rm" "hello" "$($D run --runtime mycr $U --rm --network none localhost/bb echo hello 2>&1)"
dcid=$($D run -d --runtime mycr $U --network none --memory 64m localhost/bb sleep 1000 2>&1)
check "docker run -d: the container's scope is active" "active" "$(systemctl is-active "docker-$dcid.scope")"
check "docker --memory read back from the scope" "67108864" "$(cat "/sys/fs/cgroup/system.slice/docker-$dcid.scope/memory.max" 2>&1)"
check "docker exec" "inside" "$($D exec "$dcid" echo inside 2>&1)"
$D stop -t 1 "$dcid" >/dev/null 2>&1
check "docker stop: killed after the grace period" "137 false" "$($D inspect -f '{{.State.ExitCode}} {{.State.Running}}' "$dcid" 2>&1)"
$D rm "$dcid" >/dev/null 2>&1
check "docker rm leaves no docker scope" "" \
  "$(systemctl list-units --all --type=scope --no-legend --plain 'docker-*.scope' | awk '{ print $1 }' | tr '\n' ' ')"
check "docker rm leaves no runtime state" "" "$(ls /run/docker/runtime-mycr/moby 2>/dev/null)"
systemctl stop docker.service docker.socket containerd.service
check "no failed units at the end" "" "$(systemctl list-units --failed --no-legend --plain | awk '{ print $1 }' | tr '\n' ' ')"

exit $failed
