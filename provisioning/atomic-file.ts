// Files on the kiosk's root filesystem are written whole or not at all, because a technician may pull the
// SD card out the moment a command returns: a temp file beside the target, fsync'd, given its owner and
// mode, renamed over the target, then the folder fsync'd so the rename itself is on the card.
import { randomBytes } from 'node:crypto';
import { chmod, chown, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

export interface AtomicWriteOptions {
  /** The file's final mode. */
  readonly mode: number;
  /** Its owner; applied only when running as root (nobody else may give a file away). */
  readonly owner?: FileOwner;
}

export const runningAsRoot = (): boolean => process.getuid?.() === 0;

/** Replaces `file` with `content`. On any failure the temp file is removed and `file` is as it was. The
 *  temp file is created owner-only, so a secret is never readable by others, not even before its final
 *  owner and mode are set. */
export async function replaceFileAtomically(file: string, content: string | Buffer, options: AtomicWriteOptions): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.owner !== undefined && runningAsRoot()) await chown(temp, options.owner.uid, options.owner.gid);
    await chmod(temp, options.mode);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  await syncFolder(dir);
}

/** fsync of a folder: what makes a create, rename or unlink in it durable. */
export async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
