# Sourced by run-in-vm.sh and run-in-debian.sh: boot qemu, stream the guest's console to
# stdout, and end with the guest script's status. Uses the caller's say, die, tmp, qemu,
# vm_timeout, vm_mem and vm_smp, and ready_marker if set (the console line that says the
# guest's script has started); sets qemu_pid and reader_pid for stop_vm.
#
# A guest that goes silent (no console output for MYCR_VM_SILENCE seconds, default 600)
# is stopped rather than left to the whole timeout, and the last line it printed is said.
# One that stalls before ready_marker, in its boot, is booted once more: a stalled boot
# says nothing about mycr, and under TCG on a loaded machine a run once hung with no
# check printed yet.

vm_silence=${MYCR_VM_SILENCE:-600}
case $vm_silence in '' | *[!0-9]*) die "MYCR_VM_SILENCE must be a number of seconds" ;; esac

# Kills what boot_vm started (the callers' EXIT trap): never leave a qemu behind.
stop_vm() {
  if [ -n "${qemu_pid:-}" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill -TERM "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [ -n "${reader_pid:-}" ]; then
    kill -TERM "$reader_pid" 2>/dev/null || true
    wait "$reader_pid" 2>/dev/null || true
  fi
}

# Waits for qemu; stops it when the console log has not grown for vm_silence seconds.
# Sets vm_status: qemu's status (124/137 on timeout), or "silent".
watch_vm() {
  local log=$1 size last=-1 quiet_since
  quiet_since=$(date +%s)
  vm_status=
  while kill -0 "$qemu_pid" 2>/dev/null; do
    size=$(stat -c %s "$log" 2>/dev/null || echo 0)
    if [ "$size" != "$last" ]; then
      last=$size
      quiet_since=$(date +%s)
    elif [ $(($(date +%s) - quiet_since)) -ge "$vm_silence" ]; then
      vm_status=silent
      kill -TERM "$qemu_pid" 2>/dev/null || true
      break
    fi
    sleep 2
  done
  local rc=0
  wait "$qemu_pid" || rc=$?
  [ -n "$vm_status" ] || vm_status=$rc
}

# The last non-empty line of the console that is the guest's, not qemu's own.
last_guest_line() {
  grep -v -e '^[[:space:]]*$' -e '^qemu-system' "$1" | tail -n 1
}

# boot_once QEMU_ARGS...: one boot, its console in $tmp/console.log; sets vm_status.
boot_once() {
  local log=$tmp/console.log start
  rm -f "$tmp/console" "$log"
  mkfifo "$tmp/console"
  : >"$log"
  # Without carriage returns and the firmware's terminal resets; line by line (sed -u), as
  # watch_vm reads the log's growth as the guest's signs of life.
  sed -u 's/\r//g; s/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' <"$tmp/console" | tee -a "$log" &
  reader_pid=$!
  start=$(date +%s)
  timeout -k 10 "$vm_timeout" "$qemu" -accel tcg -cpu max -m "$vm_mem" -smp "$vm_smp" \
    -nographic -no-reboot -nic none "$@" </dev/null >"$tmp/console" 2>&1 &
  qemu_pid=$!
  watch_vm "$log"
  qemu_pid=
  wait "$reader_pid" || true
  reader_pid=
  say "the VM ran for $(($(date +%s) - start))s"
}

# boot_vm QEMU_ARGS...: runs the VM (TCG, no network, console on ttyS0) and exits with the
# status of the guest's "MYCR-VM-EXIT=<code>" line, 124 on timeout or silence, 125
# without that line.
boot_vm() {
  local log=$tmp/console.log code attempt why
  for attempt in 1 2; do
    boot_once "$@"
    case $vm_status in 124 | 137 | silent) ;; *) break ;; esac
    why="timed out after ${vm_timeout}s"
    [ "$vm_status" != silent ] || why="the guest printed nothing for ${vm_silence}s"
    say "$why; its last line: $(last_guest_line "$log")"
    if [ "$attempt" = 1 ] && [ -n "${ready_marker:-}" ] && ! grep -q "$ready_marker" "$log"; then
      say "the boot stalled before the test script started: booting once more"
      continue
    fi
    exit 124
  done
  code=$(sed -n 's/^MYCR-VM-EXIT=\([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
  if [ -z "$code" ]; then
    say "no MYCR-VM-EXIT line from the guest (qemu exited with $vm_status)"
    exit 125
  fi
  exit "$code"
}
