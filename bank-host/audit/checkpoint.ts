// Signed checkpoints: (sequence, tag, time) signed with Ed25519 under the host's audit signing key, kept
// off the host. The chain alone cannot notice that its last records were cut off together with the head,
// or that an older copy of the whole store was put back; a checkpoint newer than the store can.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const CHECKPOINT_FORMAT = 'atm-kiosk-audit-checkpoint/v1';
/** PKCS#8 DER wrapping of a raw Ed25519 seed (RFC 8410): this prefix, then the 32 seed bytes. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SEED_BYTES = 32;
/** Raw Ed25519 public keys are the last 32 bytes of their SPKI DER encoding. */
const ED25519_PUBLIC_BYTES = 32;

const base64 = z.string().max(256).regex(/^[A-Za-z0-9+/]*={0,2}$/);

export const auditCheckpoint = z
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

export function createCheckpoint(seed: Buffer, head: { seq: number; tag: Buffer }, timeMs: number): AuditCheckpoint {
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

/** True when the checkpoint was signed by this host's audit signing key. */
export function checkpointSignatureValid(seed: Buffer, checkpoint: AuditCheckpoint): boolean {
  const { publicKey } = signingKeys(seed);
  return verify(null, signedBytes(checkpoint.seq, checkpoint.tag, checkpoint.timeMs), publicKey, Buffer.from(checkpoint.signature, 'base64'));
}
