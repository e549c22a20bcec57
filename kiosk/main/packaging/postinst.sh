#!/bin/sh
# Installs the kiosk's systemd unit, sysusers and tmpfiles entries and udev rules from the app's resources.
# The unit is not enabled here: `provision enroll` enables it once the kiosk has its identity and key.
set -e
resources=/usr/lib/atm-kiosk/resources/systemd
install -m 0644 "$resources/atm-kiosk.service" /usr/lib/systemd/system/atm-kiosk.service
install -m 0644 "$resources/atm-kiosk.sysusers.conf" /usr/lib/sysusers.d/atm-kiosk.conf
install -m 0644 "$resources/atm-kiosk.tmpfiles.conf" /usr/lib/tmpfiles.d/atm-kiosk.conf
install -m 0644 "$resources/70-atm-kiosk.rules" /usr/lib/udev/rules.d/70-atm-kiosk.rules
if [ -d /run/systemd/system ]; then
  systemd-sysusers atm-kiosk.conf || true
  systemd-tmpfiles --create atm-kiosk.conf || true
  systemctl daemon-reload || true
fi
udevadm control --reload-rules 2>/dev/null || true
exit 0
