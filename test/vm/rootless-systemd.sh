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

# --- the OCI face as an ordinary user: --systemd-cgroup asks the user's manager ---------------
O=/home/$U/oci
mkdir -p $O && cp -a $R $O/rootfs && chown -R $U:$U $O
oci_config() { # DIR: the config `mycr spec --rootless` wrote there, made a detached sleep with limits
  sed -i -e 's/"terminal": true/"terminal": false/' -e 's/^\( *\)"sh"$/\1"sleep", "1000"/' \
    -e 's/"linux": {/"linux": { "cgroupsPath": "user.slice:mycrt:oci1", "resources": { "memory": { "limit": 67108864 }, "pids": { "limit": 30 } },/' \
    "$1/config.json"
}
as_user mycr spec --rootless -b $O && oci_config $O
OR="--root /tmp/$U-oci"
as_user mycr $OR --systemd-cgroup create -b $O oci1 </dev/null >/tmp/oci-create.out 2>&1
check "ordinary user: --systemd-cgroup create exits 0" "0" "$?"
cat /tmp/oci-create.out
as_user mycr $OR start oci1
ocg=$UM/user.slice/mycrt-oci1.scope
check "ordinary user: the scope is the user manager's, delegated" "active yes" \
  "$(as_user systemctl --user is-active mycrt-oci1.scope) $(as_user systemctl --user show -P Delegate mycrt-oci1.scope)"
check "ordinary user: the limits are in the scope" "67108864 30" "$(cat $ocg/memory.max $ocg/pids.max 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check_has "ordinary user: state says running" '"running"' "$(as_user mycr $OR state oci1 2>&1)"
as_user mycr $OR pause oci1
check "ordinary user: pause freezes the scope" "1" "$(cat $ocg/cgroup.freeze 2>&1)"
as_user mycr $OR resume oci1
as_user mycr $OR update --memory 128m oci1
check "ordinary user: update reaches memory.max and the user's systemd" "134217728 134217728" \
  "$(cat $ocg/memory.max 2>&1) $(as_user systemctl --user show -P MemoryMax mycrt-oci1.scope)"
as_user mycr $OR kill oci1 KILL
for _ in $(seq 1 50); do as_user mycr $OR state oci1 2>&1 | grep -q '"stopped"' && break; sleep 0.2; done
as_user mycr $OR delete oci1
check "ordinary user: kill + delete leave no scope" "no inactive" \
  "$([ -e $ocg ] && echo yes || echo no) $(as_user systemctl --user is-active mycrt-oci1.scope)"
sed 's/"limit": 30/"limit": 30 }, "cpu": { "cpus": "0"/' $O/config.json >/tmp/cpuset.json
case " $delegated " in
  *" cpuset "*) echo "PASS ordinary user: an undelegated controller is refused (cpuset is delegated here)" ;;
  *)
    cp /tmp/cpuset.json $O/config.json
    out=$(as_user mycr $OR --systemd-cgroup create -b $O oci2 </dev/null 2>&1)
    check "ordinary user: an undelegated controller is refused" "1 1" \
      "$([ -n "$out" ] && echo 1) $(echo "$out" | grep -c 'linux.resources.cpu.cpus: the cpuset controller is not delegated')"
    ;;
esac

# --- rootless podman (its default: the systemd cgroup manager) with mycr as its runtime -----
# In a scope of the user's manager, as from a login: podman uses systemd only from there.
as_podman() { as_user systemd-run --user --scope --quiet podman "$@"; }
check "rootless podman's cgroup manager is systemd" "systemd" "$(as_podman info --format '{{.Host.CgroupManager}}' 2>&1)"
I=/home/$U/image
mkdir -p $I/bin $I/proc $I/dev $I/sys $I/tmp $I/etc
cp /bin/busybox $I/bin/
for a in sh echo cat sleep; do ln -s busybox $I/bin/$a; done
tar -C $I -cf /home/$U/image.tar . && chown $U:$U /home/$U/image.tar
as_podman import -q /home/$U/image.tar localhost/bb >/dev/null
PR="--runtime /bin/mycr"
check "rootless podman --memory 64m reads back inside" "67108864" \
  "$(as_podman $PR run --rm --network none --memory 64m localhost/bb cat /sys/fs/cgroup/memory.max 2>&1)"
pid=$(as_podman $PR run -d --network none --memory 64m localhost/bb sleep 1000 2>&1)
echo "podman run -d: $pid"
check "rootless podman run -d" "1" "$(echo "$pid" | grep -cxE '[0-9a-f]{64}')"
pscope=libpod-$pid.scope
check "rootless podman: the container's scope is the user manager's" "active" "$(as_user systemctl --user is-active $pscope 2>&1)"
check "rootless podman: memory.max from the host's view" "67108864" "$(cat $UM/user.slice/$pscope/memory.max 2>&1)"
check "rootless podman exec" "hi" "$(as_podman $PR exec "$pid" echo hi 2>&1)"
as_podman $PR stop -t 1 "$pid" >/dev/null 2>&1
check "rootless podman stop" "exited" "$(as_podman $PR inspect -f '{{.State.Status}}' "$pid" 2>&1)"
as_podman $PR rm "$pid" >/dev/null 2>&1
check "rootless podman rm" "" "$(as_podman ps -a -q 2>&1)"
check "rootless podman: no libpod scope left" "" \
  "$(as_user systemctl --user list-units --all --type=scope --no-legend --plain 'libpod-*.scope' | awk '{ print $1 }' | grep -v conmon | tr '\n' ' ')"

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

mkdir -p /home/$N/oci && cp -a /home/$N/rootfs /home/$N/oci/rootfs && chown -R $N:$N /home/$N/oci
as_bob mycr spec --rootless -b /home/$N/oci && oci_config /home/$N/oci
out=$(as_bob mycr --root /tmp/$N-oci --systemd-cgroup create -b /home/$N/oci ocib </dev/null 2>&1)
check "without a user manager --systemd-cgroup create says what to set" "1 1" \
  "$([ -n "$out" ] && echo 1) $(echo "$out" | grep -c 'none answers at /tmp/bob-run/bus: set XDG_RUNTIME_DIR=/run/user/')"
check "without a user manager the refused create leaves nothing" "" "$(ls /tmp/$N-oci 2>/dev/null)"

# --- nothing left -------------------------------------------------------------------------------
check "no mycr scope's cgroup left in the user's tree" "" "$(find $UM -name 'mycr-*' 2>/dev/null)"
check "no containers left" "" "$(as_user mycr ps -a -q 2>&1; ls /home/$U/.local/share/mycr/containers /home/$N/.local/share/mycr/containers 2>/dev/null | grep -v '^/\|^$')"
check "no failed user units" "0" "$(as_user systemctl --user list-units --failed --no-legend --plain | wc -l)"
check "no mycr processes left" "" "$(pgrep -u $U,$N -a 'mycr|sleep' 2>/dev/null)"
exit $failed
