// Signed checkpoints: (sequence, tag, time) signed with Ed25519 under the host's audit signing key, kept
// off the host. The chain alone cannot notice that its last records were cut off together with the head,
// or that an older copy of the whole store was put back; a checkpoint newer than the store can.
// On PostgreSQL the log is one chain per lane, so its checkpoint names every lane's head (position, record
// count, tag), all signed together: `atm-kiosk-audit-checkpoint/lanes-v1`.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const CHECKPOINT_FORMAT = 'atm-kiosk-audit-checkpoint/v1';
/** PKCS#8 DER wrapping of a raw Ed25519 seed (RFC 8410): this prefix, then the 32 seed bytes. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SEED_BYTES = 32;
/** Raw Ed25519 public keys are the last 32 bytes of their SPKI DER encoding. */
const ED25519_PUBLIC_BYTES = 32;

const base64 = z.string().max(256).regex(/^[A-Za-z0-9+/]*={0,2}$/);

export const chainCheckpoint = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    tag: base64,
    timeMs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** The signer's public key, for the auditor's records; verification uses the host's own key. */
    publicKey: base64,
    signature: base64,
  })
  .strict();
export type ChainCheckpoint = z.infer<typeof chainCheckpoint>;

export const LANE_CHECKPOINT_FORMAT = 'atm-kiosk-audit-checkpoint/lanes-v1';
/** Lanes one checkpoint may name: hosts × their pool size, with room for hosts replaced over the years. */
export const CHECKPOINT_LANES_MAX = 10_000;
/** A lane id as the store makes them (`<hostId>/<index>`, or `leveldb`): never a `|` or `,`, which the
 *  signed text uses as separators. */
const laneId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/);

export const laneCheckpoint = z
  .object({
    format: z.literal(LANE_CHECKPOINT_FORMAT),
    lanes: z
      .array(
        z
          .object({
            lane: laneId,
            seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
            count: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
            tag: base64,
          })
          .strict(),
      )
      .max(CHECKPOINT_LANES_MAX)
      .refine((lanes) => new Set(lanes.map((l) => l.lane)).size === lanes.length, 'a lane is named twice'),
    timeMs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    publicKey: base64,
    signature: base64,
  })
  .strict();
export type LaneCheckpoint = z.infer<typeof laneCheckpoint>;
export type LaneCheckpointHead = LaneCheckpoint['lanes'][number];

/** Either form, told apart by `format`. */
export const auditCheckpoint = z.discriminatedUnion('format', [chainCheckpoint, laneCheckpoint]);
export type AuditCheckpoint = z.infer<typeof auditCheckpoint>;

function signingKeys(seed: Buffer): { privateKey: KeyObject; publicKey: KeyObject } {
  if (seed.length !== ED25519_SEED_BYTES) throw new Error('the audit signing key must be 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export function auditPublicKeyBase64(seed: Buffer): string {
  const spki = signingKeys(seed).publicKey.export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - ED25519_PUBLIC_BYTES).toString('base64');
}

function signedBytes(seq: number, tag: string, timeMs: number): Buffer {
  return Buffer.from(`${CHECKPOINT_FORMAT}|${seq}|${tag}|${timeMs}`, 'utf8');
}

function laneSignedBytes(lanes: readonly LaneCheckpointHead[], timeMs: number): Buffer {
  const sorted = [...lanes].sort((a, b) => (a.lane < b.lane ? -1 : a.lane > b.lane ? 1 : 0));
  return Buffer.from(`${LANE_CHECKPOINT_FORMAT}|${timeMs}|${sorted.map((l) => `${l.lane},${l.seq},${l.count},${l.tag}`).join('|')}`, 'utf8');
}

export function createCheckpoint(seed: Buffer, head: { seq: number; tag: Buffer }, timeMs: number): ChainCheckpoint {
  const { privateKey } = signingKeys(seed);
  const tag = head.tag.toString('base64');
  return {
    format: CHECKPOINT_FORMAT,
    seq: head.seq,
    tag,
    timeMs,
    publicKey: auditPublicKeyBase64(seed),
    signature: sign(null, signedBytes(head.seq, tag, timeMs), privateKey).toString('base64'),
  };
}

/** Every lane's head, signed together (PostgreSQL). */
export function createLaneCheckpoint(seed: Buffer, lanes: readonly { lane: string; seq: number; count: number; tag: Buffer }[], timeMs: number): LaneCheckpoint {
  const { privateKey } = signingKeys(seed);
  const heads = lanes.map((l) => ({ lane: l.lane, seq: l.seq, count: l.count, tag: l.tag.toString('base64') })).sort((a, b) => (a.lane < b.lane ? -1 : a.lane > b.lane ? 1 : 0));
  return {
    format: LANE_CHECKPOINT_FORMAT,
    lanes: heads,
    timeMs,
    publicKey: auditPublicKeyBase64(seed),
    signature: sign(null, laneSignedBytes(heads, timeMs), privateKey).toString('base64'),
  };
}

/** True when the checkpoint was signed by this host's audit signing key. */
export function checkpointSignatureValid(seed: Buffer, checkpoint: AuditCheckpoint): boolean {
  const { publicKey } = signingKeys(seed);
  const signed = checkpoint.format === LANE_CHECKPOINT_FORMAT ? laneSignedBytes(checkpoint.lanes, checkpoint.timeMs) : signedBytes(checkpoint.seq, checkpoint.tag, checkpoint.timeMs);
  return verify(null, signed, publicKey, Buffer.from(checkpoint.signature, 'base64'));
}

/** The position a checkpoint vouches for the log up to (the last lane's, for a lane checkpoint). */
export function checkpointSeq(checkpoint: AuditCheckpoint): number {
  return checkpoint.format === LANE_CHECKPOINT_FORMAT ? Math.max(0, ...checkpoint.lanes.map((l) => l.seq)) : checkpoint.seq;
}
