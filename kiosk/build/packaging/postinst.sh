#!/bin/sh
# Installs the kiosk's systemd unit, sysusers and tmpfiles entries and udev rules from the app's resources
# (electron-installer-debian packages only the app folder, so these are put in place here and removed by
# prerm.sh), then creates the atm-kiosk user and sets the owner and mode of what provisioning wrote (the key
# itself stays root's until atm-kiosk-seal-key.service seals it: docs/keys.md).
# The unit is not enabled here: `provision enroll` enables it once the kiosk has its identity and key.
set -e
resources=/usr/lib/atm-kiosk/resources/systemd
install -D -m 0644 "$resources/atm-kiosk.service" /usr/lib/systemd/system/atm-kiosk.service
install -D -m 0644 "$resources/atm-kiosk-seal-key.service" /usr/lib/systemd/system/atm-kiosk-seal-key.service
install -D -m 0644 "$resources/atm-kiosk.sysusers.conf" /usr/lib/sysusers.d/atm-kiosk.conf
install -D -m 0644 "$resources/atm-kiosk.tmpfiles.conf" /usr/lib/tmpfiles.d/atm-kiosk.conf
install -D -m 0644 "$resources/70-atm-kiosk.rules" /usr/lib/udev/rules.d/70-atm-kiosk.rules
# Only on a running systemd (not in a chroot or image build): systemd-sysusers.service runs at boot only
# after an OS update, so the user is created here, and tmpfiles sets the owner and mode of /etc/atm-kiosk
# now rather than at the next boot.
# A failed tmpfiles line is not fatal: systemd-tmpfiles-setup.service applies the file again at every boot.
if [ -d /run/systemd/system ]; then
  systemd-sysusers atm-kiosk.conf
  systemd-tmpfiles --create atm-kiosk.conf || true
  systemctl daemon-reload || true
  # prerm stopped the kiosk for the upgrade; an enrolled (enabled) kiosk comes back with the new version.
  if systemctl is-enabled --quiet atm-kiosk.service 2>/dev/null; then
    systemctl restart atm-kiosk.service || true
  fi
fi
udevadm control --reload-rules 2>/dev/null || true
exit 0
