// What every part of provisioning shares about the kiosk's root filesystem: a path on the kiosk as a path
// under the root, what a write did, and the one error type whose code says what went wrong.
import path from 'node:path';

export class ProvisionError extends Error {
  constructor(
    readonly code: 'ROOT_MISSING' | 'OTHER_DEVICE' | 'BAD_KEY_FILE' | 'OLD_KEY' | 'BAD_SETTINGS' | 'NOT_ENROLLED' | 'UNITS_MISSING' | 'HOST_REFUSED',
    message: string,
  ) {
    super(message);
    this.name = 'ProvisionError';
  }
}

export type Change = 'created' | 'updated' | 'unchanged';

/** A path on the kiosk (absolute) as a path under the root. */
export function inRoot(root: string, kioskPath: string): string {
  return path.join(root, kioskPath);
}
