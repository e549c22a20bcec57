#!/bin/sh
# Stops the kiosk before its files change (postinst.sh starts an enrolled kiosk again after an upgrade); on
# removal the unit, rules and entries that postinst.sh installed go too.
set -e
if [ -d /run/systemd/system ]; then
  systemctl stop atm-kiosk.service 2>/dev/null || true
fi
if [ "$1" = remove ] || [ "$1" = purge ]; then
  rm -f /usr/lib/systemd/system/atm-kiosk.service /usr/lib/systemd/system/atm-kiosk-seal-key.service /usr/lib/sysusers.d/atm-kiosk.conf /usr/lib/tmpfiles.d/atm-kiosk.conf /usr/lib/udev/rules.d/70-atm-kiosk.rules
fi
exit 0
