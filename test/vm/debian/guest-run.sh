#!/bin/sh
# Inside the Debian VM (mycr-test.service): mounts the harness's disk (/dev/vdb) on /files,
# installs /files/mycr as /bin/mycr, runs /files/test.sh as root, prints
# MYCR-VM-EXIT=<code> on the serial console and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root MYCR_VM=1
rc=125
if mount /dev/vdb /files; then
  if [ -f /files/mycr ]; then install -m 755 /files/mycr /usr/bin/mycr; fi
  # Wait for the manager to finish starting up, so the test sees a settled system.
  systemctl is-system-running --wait >/dev/null 2>&1
  echo "MYCR-VM-READY $(cut -d' ' -f1 /proc/uptime)s system=$(systemctl is-system-running)"
  cd /files && sh /files/test.sh </dev/null
  rc=$?
  sync
fi
echo "MYCR-VM-EXIT=$rc"
systemctl poweroff --force --no-block
