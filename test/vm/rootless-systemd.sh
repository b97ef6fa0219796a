#!/bin/sh
# Rootless mycr on a real systemd host (Debian 12, systemd PID 1, cgroup v2): an ordinary
# user with a lingering user manager (user@UID.service) gets a rootless container's
# limits in a scope of that manager, below the cgroup delegated to it; a limit whose
# controller is not delegated is refused naming it; a user without a user manager runs
# without a cgroup and is told so. Run by test/rootless-systemd-vm.test.ts through
# run-in-debian.sh. Prints "PASS name" or "FAIL name: why" per check; non-zero if any failed.
set -u
failed=0
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: expected [$2] got [$3]"; failed=1; fi
}
check_has() { # name needle haystack
  case $3 in
    *"$2"*) echo "PASS $1" ;;
    *) echo "FAIL $1: [$2] not in [$3]"; failed=1 ;;
  esac
}

echo "systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), PID 1 is $(cat /proc/1/comm), $(stat -f -c %T /sys/fs/cgroup)"

# --- the user: subordinate ids, lingering, its manager and bus ---------------------------------
U=alice
useradd -m -s /bin/sh $U
uid=$(id -u $U)
grep -q "^$U:" /etc/subuid || echo "$U:200000:65536" >>/etc/subuid
grep -q "^$U:" /etc/subgid || echo "$U:200000:65536" >>/etc/subgid
loginctl enable-linger $U
run=/run/user/$uid
for _ in $(seq 1 120); do
  [ "$(systemctl is-active user@"$uid".service)" = active ] && [ -S $run/bus ] && break
  sleep 1
done
check "the user's manager is running" "active" "$(systemctl is-active user@"$uid".service)"
check "the user's bus is there" "yes" "$([ -S $run/bus ] && echo yes || echo no)"
UM=/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service
delegated=$(cat $UM/cgroup.controllers)
echo "delegated to user@$uid.service: $delegated"

# `mycr ...` as the user, in a bare environment (no session: runuser opens none).
as_user() {
  runuser -u $U -- env -i HOME=/home/$U XDG_RUNTIME_DIR=$run PATH=/usr/bin:/bin timeout 180 "$@"
}
user_scopes() { # the mycr scopes the user's manager knows, in any state
  as_user systemctl --user list-units --all --type=scope --no-legend --plain 'mycr-*.scope' | awk '{ print $1 }' | tr '\n' ' '
}

# The user's own busybox root.
R=/home/$U/rootfs
mkdir -p $R/bin $R/proc $R/dev $R/sys $R/tmp $R/etc
cp /bin/busybox $R/bin/
for a in sh sleep cat id ls; do ln -s busybox $R/bin/$a; done
echo "root:x:0:0:root:/root:/bin/sh" >$R/etc/passwd
echo "root:x:0:" >$R/etc/group
chown -R $U:$U $R

check_has "info: the cgroup driver is the user's systemd" "Cgroup Driver: systemd (rootless: scopes of your systemd user manager)" "$(as_user mycr info 2>&1)"

# --- foreground: limits read back inside -------------------------------------------------------
out=$(as_user mycr run --network none --memory 64m --pids-limit 20 --rootfs $R cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>/tmp/run.err)
check "run --memory 64m --pids-limit 20 exits 0" "0" "$?"
check "memory.max and pids.max read back inside" "67108864 20" "$(echo $out)"
check "no 'no cgroup' notice" "" "$(grep -i 'no cgroup' /tmp/run.err)"
check_has "id inside is root" "uid=0(root) gid=0(root)" "$(as_user mycr run --network none --rootfs $R id 2>&1)"
check "the foreground run leaves no scope" "" "$(user_scopes)"

# --- detached: the host's view of the user's scope, ps, pause, update, stats, stop, rm --------
id=$(as_user mycr run -d --name web --network none --memory 64m --pids-limit 20 --rootfs $R sleep 1000 2>/tmp/run-d.err)
check "run -d exits 0" "0" "$?"
cat /tmp/run-d.err
scope=mycr-$id.scope
cg=$UM/user.slice/$scope
check "the scope is active in the user's manager" "active" "$(as_user systemctl --user is-active $scope)"
check "the scope is delegated" "yes" "$(as_user systemctl --user show -P Delegate $scope)"
check "memory.max from the host's view of the user's tree" "67108864" "$(cat $cg/memory.max 2>&1)"
check "pids.max from the host's view of the user's tree" "20" "$(cat $cg/pids.max 2>&1)"
check "the user's systemd has MemoryMax and TasksMax" "67108864 20" \
  "$(as_user systemctl --user show -P MemoryMax $scope) $(as_user systemctl --user show -P TasksMax $scope)"
procs=$(cat $cg/cgroup.procs 2>/dev/null | head -n 1)
check "the container's sleep is in the scope" "sleep" "$([ -n "$procs" ] && cat /proc/"$procs"/comm)"
check "the scope's processes are the user's on the host" "$uid" "$([ -n "$procs" ] && stat -c %u /proc/"$procs")"
check_has "ps lists web" "web" "$(as_user mycr ps 2>&1)"
as_user mycr pause web
check "pause freezes the scope" "1" "$(cat $cg/cgroup.freeze 2>&1)"
as_user mycr resume web
check "resume thaws it" "0" "$(cat $cg/cgroup.freeze 2>&1)"
as_user mycr update --memory 96m web
check "update --memory reaches memory.max and the user's systemd" "100663296 100663296" \
  "$(cat $cg/memory.max 2>&1) $(as_user systemctl --user show -P MemoryMax $scope)"
check_has "stats shows the limit" "/ 96 MiB" "$(as_user mycr stats --no-stream web 2>&1)"
as_user mycr stop -t 1 web >/dev/null
as_user mycr rm web >/dev/null
check "stop + rm leave no scope" "" "$(user_scopes)"
check "stop + rm leave no cgroup" "no" "$([ -e $cg ] && echo yes || echo no)"

# --- a limit whose controller is not delegated --------------------------------------------------
# Debian's user@.service delegates some controllers only; cpuset and io are the usual
# absentees. Each is refused naming it where it is missing, applied where it is there.
for pair in "--cpuset-cpus 0:cpuset:cpuset.cpus:0" "--cpus 0.5:cpu:cpu.max:50000 100000"; do
  flag=${pair%%:*}; rest=${pair#*:}; ctl=${rest%%:*}; rest=${rest#*:}; file=${rest%%:*}; want=${rest#*:}
  # shellcheck disable=SC2086 # the flag and its value are two words
  out=$(as_user mycr run --network none $flag --rootfs $R cat /sys/fs/cgroup/$file 2>&1)
  rc=$?
  case " $delegated " in
    *" $ctl "*) check "$flag applied ($ctl delegated)" "0 $want" "$rc $out" ;;
    *) check "$flag refused ($ctl not delegated)" "125 1" "$rc $(echo "$out" | grep -c "the $ctl controller is not delegated")" ;;
  esac
done
check "the refused runs leave no scope" "" "$(user_scopes)"

# --- a user without a user manager: no cgroup, said once; limits refused ----------------------
N=bob
useradd -m -s /bin/sh $N
grep -q "^$N:" /etc/subuid || echo "$N:300000:65536" >>/etc/subuid
grep -q "^$N:" /etc/subgid || echo "$N:300000:65536" >>/etc/subgid
mkdir -p /tmp/$N-run && chown $N:$N /tmp/$N-run && chmod 700 /tmp/$N-run
cp -a $R /home/$N/rootfs && chown -R $N:$N /home/$N/rootfs
as_bob() { runuser -u $N -- env -i HOME=/home/$N XDG_RUNTIME_DIR=/tmp/$N-run PATH=/usr/bin:/bin timeout 180 "$@"; }
check_has "without a user manager info says none" "Cgroup Driver: none (rootless" "$(as_bob mycr info 2>&1)"
out=$(as_bob mycr run --network none --memory 64m --rootfs /home/$N/rootfs true 2>&1)
check "without a user manager --memory is refused" "125 1" "$? $(echo "$out" | grep -c -- '--memory: limits need a cgroup')"
first=$(as_bob mycr run --network none --rootfs /home/$N/rootfs true 2>&1)
second=$(as_bob mycr run --network none --rootfs /home/$N/rootfs true 2>&1)
check "without a user manager: the notice once" "1 0" \
  "$(echo "$first" | grep -c 'no cgroup is delegated') $(echo "$second" | grep -c 'no cgroup is delegated')"

# --- nothing left -------------------------------------------------------------------------------
check "no mycr scope's cgroup left in the user's tree" "" "$(find $UM -name 'mycr-*' 2>/dev/null)"
check "no containers left" "" "$(as_user mycr ps -a -q 2>&1; ls /home/$U/.local/share/mycr/containers /home/$N/.local/share/mycr/containers 2>/dev/null | grep -v '^/\|^$')"
check "no failed user units" "0" "$(as_user systemctl --user list-units --failed --no-legend --plain | wc -l)"
check "no mycr processes left" "" "$(pgrep -u $U,$N -a 'mycr|sleep' 2>/dev/null)"
exit $failed
