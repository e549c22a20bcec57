// Kiosks known to the host: id, status, K_SHARED and the PIN encryption key (PEK) wrapped under the master
// key, and the EPP enrolled to receive the PEK (docs/keys.md: one key, one job). The TLS `pskCallback`
// is synchronous, so the registry keeps every record in memory and writes each change through the group
// committer (with its audit record) before the in-memory view changes.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isDeviceId } from '../../protocol/channel.js';
import { keyCheckValue } from '../../protocol/key-block.js';
import { PSK_BYTES } from '../../protocol/limits.js';
import { PEK_BYTES } from '../../protocol/pin-key-delivery.js';
import type { AuditedCommitter } from '../audit/event.js';
import { DeviceRegistryError } from '../errors.js';
import type { KeyValueStore, StoreLocks } from '../store/host-store.js';
import { unwrapDeviceKey, wrapDeviceKey } from '../keys.js';
import { KeyedLocks } from '../store/locks.js';

export type DeviceStatus = 'active' | 'revoked';

export interface DeviceRecord {
  readonly deviceId: string;
  readonly status: DeviceStatus;
  readonly keyVersion: number;
  readonly wrappedKey: string;
  /** The PEK (AES-256), random, never derived from K_SHARED; rotated on its own. Absent on records written
   *  before PEKs existed until `device rotate-pin-key` gives one. */
  readonly pinKey?: { readonly version: number; readonly wrapped: string; readonly kcv: string };
  /** The PIN pad the PEK is delivered to: pinned by the first delivery, changed only by an operator. */
  readonly epp?: { readonly vendor: string; readonly serial: string; readonly publicKey: string };
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** What operators see: never the key. */
export interface DeviceSummary {
  readonly deviceId: string;
  readonly status: DeviceStatus;
  readonly keyVersion: number;
  readonly pinKeyVersion?: number;
  /** The PEK's AES-CMAC check value: compared with the one the kiosk's EPP reports. */
  readonly pinKeyKcv?: string;
  readonly eppSerial?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const DEVICE_KEY_PREFIX = 'dev:';
/** Bounds the registry that lives in memory. */
export const MAX_DEVICES = 100_000;

export type PskLookup = { readonly outcome: 'ok'; readonly key: Buffer; readonly keyVersion: number } | { readonly outcome: 'unknown' | 'revoked' };

export class DeviceRegistry extends EventEmitter<{ revoked: [deviceId: string]; rotated: [deviceId: string] }> {
  private readonly devices = new Map<string, DeviceRecord>();
  // Changes to one device are serialized so two concurrent `add`s of one id cannot both pass the check. On
  // LevelDB, in this process; on a store shared by several hosts, by the store's lock on the device's
  // record, which every request of the device holds shared while it runs (server/dispatcher.ts), so a
  // revocation waits for the requests in flight on every host and every later one sees it.
  private readonly locks: StoreLocks;
  private readonly lockKey: (deviceId: string) => string;
  // Devices whose revocation or rotation is being written. From the moment the change is handed to the
  // committer, no key of the device counts as current: a request's change handed to the committer after
  // that could land in a batch after the command's, that is after the command returned.
  private readonly changing = new Set<string>();

  private constructor(
    private readonly db: KeyValueStore,
    private readonly committer: AuditedCommitter,
    private readonly masterKey: Buffer,
    private readonly now: () => number,
    /** The store's locks when the store is shared by several hosts; undefined: this process is the only one. */
    private readonly sharedLocks: StoreLocks | undefined,
  ) {
    super();
    this.locks = sharedLocks ?? new KeyedLocks();
    this.lockKey = sharedLocks === undefined ? (deviceId) => deviceId : (deviceId) => DEVICE_KEY_PREFIX + deviceId;
  }

  static async load(db: KeyValueStore, committer: AuditedCommitter, masterKey: Buffer, now: () => number = Date.now, sharedLocks?: StoreLocks): Promise<DeviceRegistry> {
    const registry = new DeviceRegistry(db, committer, masterKey, now, sharedLocks);
    for await (const [, record] of db.entries<DeviceRecord>(DEVICE_KEY_PREFIX)) {
      // Fail at start, not at a kiosk's handshake, if the master key is not the one the records were wrapped with.
      unwrapDeviceKey(masterKey, record.deviceId, record.keyVersion, record.wrappedKey).fill(0);
      if (record.pinKey) unwrapDeviceKey(masterKey, record.deviceId, record.pinKey.version, record.pinKey.wrapped, 'pek').fill(0);
      registry.devices.set(record.deviceId, record);
    }
    return registry;
  }

  /** On a store shared by several hosts: takes in the device records other hosts wrote (a device added,
   *  revoked or rotated there), emitting `revoked` and `rotated` as for a change made here, so this host's
   *  connections of the device close. Returns how many records changed. */
  async refresh(): Promise<number> {
    let changed = 0;
    for await (const [, record] of this.db.entries<DeviceRecord>(DEVICE_KEY_PREFIX)) if (this.takeIn(record)) changed++;
    return changed;
  }

  /** Takes in one stored record if it is newer than the one in memory; true when it was. */
  takeIn(record: DeviceRecord): boolean {
    const known = this.devices.get(record.deviceId);
    if (known !== undefined && known.updatedAtMs >= record.updatedAtMs && known.keyVersion >= record.keyVersion && (known.status === record.status || known.status === 'revoked')) return false;
    if (known === undefined && this.devices.size >= MAX_DEVICES) return false;
    this.devices.set(record.deviceId, record);
    if (known !== undefined && record.status === 'revoked' && known.status !== 'revoked') this.emit('revoked', record.deviceId);
    else if (known !== undefined && record.keyVersion !== known.keyVersion) this.emit('rotated', record.deviceId);
    return true;
  }

  /** Inside the device's lock on a shared store: the record as stored, taken in first (another host may have
   *  changed it). */
  private async current(deviceId: string): Promise<void> {
    if (this.sharedLocks === undefined || !isDeviceId(deviceId)) return;
    const stored = await this.db.get<DeviceRecord>(DEVICE_KEY_PREFIX + deviceId);
    if (stored !== undefined) this.takeIn(stored);
  }

  /** Synchronous, for `pskCallback`. */
  lookupPsk(deviceId: string): PskLookup {
    const record = this.devices.get(deviceId);
    if (!record) return { outcome: 'unknown' };
    if (record.status !== 'active') return { outcome: 'revoked' };
    return { outcome: 'ok', key: unwrapDeviceKey(this.masterKey, record.deviceId, record.keyVersion, record.wrappedKey), keyVersion: record.keyVersion };
  }

  isActive(deviceId: string): boolean {
    return this.devices.get(deviceId)?.status === 'active';
  }

  /** Whether a connection whose handshake used key `keyVersion` of the device may still be served: the
   *  device is active, that version is its current key, and no revocation or rotation of it is being
   *  written. Synchronous, so a caller can check it in the same turn as it hands a change to the committer.
   *  Without a version (callers that never saw a handshake) only the device's state is checked. */
  isKeyCurrent(deviceId: string, keyVersion: number | undefined): boolean {
    const record = this.devices.get(deviceId);
    if (record === undefined || record.status !== 'active' || this.changing.has(deviceId)) return false;
    return keyVersion === undefined || record.keyVersion === keyVersion;
  }

  list(): DeviceSummary[] {
    return [...this.devices.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId)).map(summarize);
  }

  get(deviceId: string): DeviceSummary | undefined {
    const record = this.devices.get(deviceId);
    return record && summarize(record);
  }

  /** Registers a device and returns its K_SHARED: `supplied`, when the operator's tool made the key and
   *  wrote it to its file before asking (bank-host device add --key-out), or a new one (the only time a key
   *  leaves the host in clear). */
  async add(deviceId: string, actor = 'operator', supplied?: Buffer): Promise<Buffer> {
    return this.locks.withLocks([this.lockKey(deviceId)], () => this.audited('device.add', deviceId, actor, async () => (await this.current(deviceId), this.addLocked(deviceId, actor, supplied))));
  }

  private async addLocked(deviceId: string, actor: string, supplied: Buffer | undefined): Promise<Buffer> {
    if (!isDeviceId(deviceId)) {
      throw new DeviceRegistryError('BAD_DEVICE_ID', `device id ${JSON.stringify(deviceId)} must be 3-63 of a-z 0-9 and -, starting with a letter or digit`);
    }
    if (this.devices.has(deviceId)) throw new DeviceRegistryError('DEVICE_EXISTS', `device ${deviceId} already exists (rotate its key instead)`);
    if (this.devices.size >= MAX_DEVICES) throw new Error(`the registry is full (${MAX_DEVICES} devices)`);
    const kShared = suppliedKey(supplied);
    const nowMs = this.now();
    const record: DeviceRecord = {
      deviceId,
      status: 'active',
      keyVersion: 1,
      wrappedKey: wrapDeviceKey(this.masterKey, deviceId, 1, kShared),
      pinKey: await this.newPinKey(deviceId, 1),
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    await this.write(record, { action: 'device.add', actor });
    return kShared;
  }

  /** Revokes a device: its handshakes fail from now on and its open connections are closed. */
  async revoke(deviceId: string, actor = 'operator'): Promise<DeviceSummary> {
    return this.locks.withLocks([this.lockKey(deviceId)], () => this.audited('device.revoke', deviceId, actor, async () => (await this.current(deviceId), this.revokeLocked(deviceId, actor))));
  }

  private async revokeLocked(deviceId: string, actor: string): Promise<DeviceSummary> {
    const record = this.require(deviceId);
    if (record.status === 'revoked') return summarize(record);
    const revoked: DeviceRecord = { ...record, status: 'revoked', updatedAtMs: this.now() };
    await this.writeKeyChange(revoked, { action: 'device.revoke', actor });
    this.emit('revoked', deviceId);
    return summarize(revoked);
  }

  /** Gives an active device a new K_SHARED; connections made with the old key are closed. `supplied` is a
   *  key the operator's tool made and wrote to its file for version `keyVersion` before asking: refused
   *  (KEY_VERSION_CONFLICT) unless that is the device's next version. */
  async rotate(deviceId: string, actor = 'operator', supplied?: { readonly kShared: Buffer; readonly keyVersion: number }): Promise<Buffer> {
    return this.locks.withLocks([this.lockKey(deviceId)], () =>
      this.audited('device.rotate', deviceId, actor, async () => (await this.current(deviceId), this.rotateLocked(deviceId, actor, supplied))),
    );
  }

  private async rotateLocked(deviceId: string, actor: string, supplied: { readonly kShared: Buffer; readonly keyVersion: number } | undefined): Promise<Buffer> {
    const record = this.require(deviceId);
    if (record.status !== 'active') throw new DeviceRegistryError('DEVICE_REVOKED', `device ${deviceId} is revoked; add it again under a new id`);
    const keyVersion = record.keyVersion + 1;
    if (supplied !== undefined && supplied.keyVersion !== keyVersion) {
      throw new DeviceRegistryError('KEY_VERSION_CONFLICT', `the new key is for key version ${supplied.keyVersion}, but device ${deviceId} is at version ${record.keyVersion}`);
    }
    const kShared = suppliedKey(supplied?.kShared);
    const rotated: DeviceRecord = {
      ...record,
      keyVersion,
      wrappedKey: wrapDeviceKey(this.masterKey, deviceId, keyVersion, kShared),
      updatedAtMs: this.now(),
    };
    await this.writeKeyChange(rotated, { action: 'device.rotate', actor });
    this.emit('rotated', deviceId);
    return kShared;
  }

  /** The device's current PEK, for deciphering its PIN blocks and delivering it to its EPP; undefined for
   *  an unknown or revoked device or one without a PEK. The caller zeroes `key`. */
  pinKeyOf(deviceId: string): { readonly key: Buffer; readonly version: number; readonly kcv: string } | undefined {
    const record = this.devices.get(deviceId);
    if (!record || record.status !== 'active' || !record.pinKey) return undefined;
    const { version, wrapped, kcv } = record.pinKey;
    return { key: unwrapDeviceKey(this.masterKey, deviceId, version, wrapped, 'pek'), version, kcv };
  }

  /** Gives an active device a new PEK (K_SHARED untouched): one synced, audited write, so it either
   *  happened or nothing changed. The kiosk loads it at its next `pinkey.fetch`. With `replaceEpp` the
   *  enrolled PIN pad is forgotten too: the next one to ask (with a trusted certificate) is enrolled. */
  async rotatePinKey(deviceId: string, actor = 'operator', options: { readonly replaceEpp?: boolean } = {}): Promise<DeviceSummary> {
    return this.locks.withLocks([this.lockKey(deviceId)], () =>
      this.audited('device.rotate-pin-key', deviceId, actor, async () => {
        // The record as stored, not as this host last saw it: another host may have revoked the device (or
        // rotated its keys) a moment ago, and writing the one in memory would undo that.
        await this.current(deviceId);
        const record = this.require(deviceId);
        if (record.status !== 'active') throw new DeviceRegistryError('DEVICE_REVOKED', `device ${deviceId} is revoked`);
        const { epp: _, ...rest } = record;
        const rotated: DeviceRecord = {
          ...(options.replaceEpp ? rest : record),
          pinKey: await this.newPinKey(deviceId, (record.pinKey?.version ?? 0) + 1),
          updatedAtMs: this.now(),
        };
        await this.write(rotated, { action: 'device.rotate-pin-key', actor, detail: { pinKeyVersion: rotated.pinKey!.version, pinKeyKcv: rotated.pinKey!.kcv, ...(options.replaceEpp && { eppReplaced: true }) } });
        return summarize(rotated);
      }),
    );
  }

  /** Pins the EPP `certificate` (already verified under a trusted vendor CA) to the device, the first
   *  time; afterwards only the same EPP is accepted (EPP_MISMATCH) until an operator replaces it. */
  async enrollEpp(deviceId: string, epp: { readonly vendor: string; readonly serial: string; readonly publicKey: string }): Promise<void> {
    return this.locks.withLocks([this.lockKey(deviceId)], async () => {
      await this.current(deviceId);
      const record = this.require(deviceId);
      if (record.status !== 'active') throw new DeviceRegistryError('DEVICE_REVOKED', `device ${deviceId} is revoked`);
      if (record.epp) {
        if (record.epp.vendor === epp.vendor && record.epp.serial === epp.serial && record.epp.publicKey === epp.publicKey) return;
        await this.committer.commit({ ops: [], events: [{ action: 'epp.enroll', outcome: 'refused', actor: 'kiosk', deviceId, reason: 'EPP_MISMATCH', detail: { eppSerial: epp.serial } }] });
        throw new DeviceRegistryError('EPP_MISMATCH', `device ${deviceId} has PIN pad ${record.epp.serial} enrolled, not ${epp.serial}`);
      }
      const enrolled: DeviceRecord = { ...record, epp: { vendor: epp.vendor, serial: epp.serial, publicKey: epp.publicKey }, updatedAtMs: this.now() };
      await this.write(enrolled, { action: 'epp.enroll', actor: 'kiosk', detail: { eppVendor: epp.vendor, eppSerial: epp.serial } });
    });
  }

  private async newPinKey(deviceId: string, version: number): Promise<NonNullable<DeviceRecord['pinKey']>> {
    const pek = randomBytes(PEK_BYTES);
    try {
      return { version, wrapped: wrapDeviceKey(this.masterKey, deviceId, version, pek, 'pek'), kcv: await keyCheckValue(pek) };
    } finally {
      pek.fill(0);
    }
  }

  /** Records that an operator's add or rotation of `deviceId` failed before it reached the registry: its
   *  key file could not be written (`error`, a system error code), so nothing was changed. */
  async recordKeyOutFailure(action: 'device.add' | 'device.rotate', deviceId: string, error: string, actor = 'operator'): Promise<void> {
    await this.committer.commit({
      ops: [],
      events: [{ action, outcome: 'failed', actor, reason: 'KEY_OUT_FAILED', detail: { error }, ...(isDeviceId(deviceId) && { deviceId }) }],
    });
  }

  /** A refused change (a DeviceRegistryError) leaves its audit record too, as every operator action does. The id is
   *  recorded only when it is well-formed: a malformed one is whatever was typed. */
  private async audited<T>(action: string, deviceId: string, actor: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DeviceRegistryError) {
        await this.committer.commit({ ops: [], events: [{ action, outcome: 'failed', actor, reason: error.code, ...(isDeviceId(deviceId) && { deviceId }) }] });
      }
      throw error;
    }
  }

  private require(deviceId: string): DeviceRecord {
    const record = this.devices.get(deviceId);
    if (!record) throw new DeviceRegistryError('DEVICE_UNKNOWN', `no device ${JSON.stringify(deviceId)} is registered`);
    return record;
  }

  /** A revocation or rotation: the device's current key stops counting as current before the change is
   *  handed to the committer (if the change fails, the old key is current again). */
  private async writeKeyChange(record: DeviceRecord, audit: { action: string; actor: string }): Promise<void> {
    this.changing.add(record.deviceId);
    try {
      await this.write(record, audit);
    } finally {
      this.changing.delete(record.deviceId);
    }
  }

  private async write(record: DeviceRecord, audit: { action: string; actor: string; detail?: Readonly<Record<string, string | number | boolean>> }): Promise<void> {
    await this.committer.commit({
      ops: [{ type: 'put', key: DEVICE_KEY_PREFIX + record.deviceId, value: record }],
      events: [{ action: audit.action, outcome: 'ok', actor: audit.actor, deviceId: record.deviceId, detail: audit.detail ?? { keyVersion: record.keyVersion, ...(record.pinKey && { pinKeyVersion: record.pinKey.version, pinKeyKcv: record.pinKey.kcv }) } }],
    });
    this.devices.set(record.deviceId, record);
  }
}

/** The key an operator's tool supplied (checked), or a new random one. */
function suppliedKey(supplied: Buffer | undefined): Buffer {
  if (supplied === undefined) return randomBytes(PSK_BYTES);
  if (supplied.length !== PSK_BYTES) throw new Error(`a supplied K_SHARED must be ${PSK_BYTES} bytes`);
  return Buffer.from(supplied);
}

function summarize(record: DeviceRecord): DeviceSummary {
  return {
    deviceId: record.deviceId,
    status: record.status,
    keyVersion: record.keyVersion,
    ...(record.pinKey && { pinKeyVersion: record.pinKey.version, pinKeyKcv: record.pinKey.kcv }),
    ...(record.epp && { eppSerial: record.epp.serial }),
    createdAt: new Date(record.createdAtMs).toISOString(),
    updatedAt: new Date(record.updatedAtMs).toISOString(),
  };
}
