# Sourced by run-in-vm.sh and run-in-debian.sh: boot qemu, stream the guest's console to
# stdout, and end with the guest script's status. Uses the caller's say, tmp, qemu,
# vm_timeout, vm_mem and vm_smp; sets qemu_pid and reader_pid for stop_vm.

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

# boot_vm QEMU_ARGS...: runs the VM (TCG, no network, console on ttyS0) and exits with the
# status of the guest's "MYCR-VM-EXIT=<code>" line, 124 on timeout, 125 without that line.
boot_vm() {
  local log=$tmp/console.log status code start
  mkfifo "$tmp/console"
  # Without carriage returns and the firmware's terminal resets.
  tr -d '\r' <"$tmp/console" | sed -u 's/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' | tee "$log" &
  reader_pid=$!
  start=$(date +%s)
  set +e
  timeout -k 10 "$vm_timeout" "$qemu" -accel tcg -cpu max -m "$vm_mem" -smp "$vm_smp" \
    -nographic -no-reboot -nic none "$@" </dev/null >"$tmp/console" 2>&1 &
  qemu_pid=$!
  wait "$qemu_pid"
  status=$?
  set -e
  qemu_pid=
  wait "$reader_pid" || true
  reader_pid=
  say "the VM ran for $(($(date +%s) - start))s"

  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    say "timed out after ${vm_timeout}s"
    exit 124
  fi
  code=$(sed -n 's/^MYCR-VM-EXIT=\([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
  if [ -z "$code" ]; then
    say "no MYCR-VM-EXIT line from the guest (qemu exited with $status)"
    exit 125
  fi
  exit "$code"
}
