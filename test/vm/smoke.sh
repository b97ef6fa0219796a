#!/bin/sh
# Smoke test for the VM harness: pure cgroup v2, and mycr runs a container in it.
#   test/vm/run-in-vm.sh test/vm/smoke.sh
set -eu
echo "--- /proc/self/cgroup"
cat /proc/self/cgroup
echo "--- /sys/fs/cgroup/cgroup.controllers"
cat /sys/fs/cgroup/cgroup.controllers
echo "--- /sys/fs/cgroup/cgroup.subtree_control"
cat /sys/fs/cgroup/cgroup.subtree_control
echo "--- mycr --version"
/bin/mycr --version
echo "--- mycr run"
mkdir -p /tmp/r/bin
cp /bin/busybox /tmp/r/bin/
ln -s busybox /tmp/r/bin/sh
out=$(/bin/mycr run --rootfs /tmp/r -- /bin/sh -c 'echo inside pid=$$; cat /proc/self/cgroup')
echo "$out"
case $out in
  *"inside pid=1"*) echo "smoke: ok" ;;
  *) echo "smoke: FAILED: no 'inside pid=1' in the container's output"; exit 1 ;;
esac
echo "--- mycr run with limits (cgroup v2 files inside the container)"
limits=$(/bin/mycr run -m 64m --pids-limit 50 --cpus 0.5 --rootfs /tmp/r -- \
  /bin/sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max')
echo "$limits"
[ "$limits" = "67108864
50
50000 100000" ] || { echo "smoke: FAILED: unexpected limits"; exit 1; }
echo "smoke: limits ok"
