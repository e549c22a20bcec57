// A PIN pad's factory identity: its serial, its X25519 private key and its vendor's certificate of the
// public half (protocol/pin-key-delivery.ts). A real EPP keeps it in tamper-responsive memory and never
// lets the private key out; here it is the file the EPP simulator (and the demo setting's software PIN pad)
// reads, owner-only:
//
//   atm-epp-identity v1
//   <certificate line>
//   x25519-private <64 hex>
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { rawPrivateKey, rawPublicKey, x25519PrivateFromRaw } from '../../../../protocol/pin-key-delivery.js';

export const EPP_IDENTITY_MAGIC = 'atm-epp-identity v1';
const IDENTITY_FILE_MAX_BYTES = 2_048;

export interface EppIdentity {
  readonly serial: string;
  readonly privateKey: KeyObject;
  readonly certificate: string;
}

export class EppIdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EppIdentityError';
  }
}

export function formatEppIdentity(identity: EppIdentity): string {
  return `${EPP_IDENTITY_MAGIC}\n${identity.certificate}\nx25519-private ${rawPrivateKey(identity.privateKey).toString('hex')}\n`;
}

/** Parses an identity and checks that the certificate names its serial and its public key (the signature
 *  is the host's to check: the PIN pad does not know which CAs the host trusts). */
export function parseEppIdentity(text: string): EppIdentity {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines.length !== 3 || lines[0] !== EPP_IDENTITY_MAGIC) throw new EppIdentityError(`not an EPP identity (three lines, the first "${EPP_IDENTITY_MAGIC}")`);
  const cert = /^atm-epp-cert v1 [A-Za-z0-9._-]{1,32} ([A-Za-z0-9._-]{1,32}) ([0-9a-f]{64}) [0-9a-f]{128}$/.exec(lines[1]!);
  if (!cert) throw new EppIdentityError('the second line is not an EPP certificate');
  const key = /^x25519-private ([0-9a-f]{64})$/.exec(lines[2]!);
  if (!key) throw new EppIdentityError('the third line is not "x25519-private" and 64 hex digits');
  const privateKey = x25519PrivateFromRaw(Buffer.from(key[1]!, 'hex'));
  if (rawPublicKey(createPublicKey(privateKey)).toString('hex') !== cert[2]) throw new EppIdentityError('the private key is not the one the certificate names');
  return { serial: cert[1]!, privateKey, certificate: lines[1]! };
}

/** Reads an identity file: owner-only, since its private key opens every PIN key sent to this PIN pad. */
export async function loadEppIdentity(file: string): Promise<EppIdentity> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    throw new EppIdentityError(`${file}: cannot read the EPP identity (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!info.isFile() || info.size > IDENTITY_FILE_MAX_BYTES) throw new EppIdentityError(`${file}: not an EPP identity file`);
  if ((info.mode & 0o077) !== 0) throw new EppIdentityError(`${file}: permissions ${(info.mode & 0o777).toString(8)} let others read it; run: chmod 600 ${file}`);
  try {
    return parseEppIdentity(await readFile(file, 'utf8'));
  } catch (error) {
    throw new EppIdentityError(`${file}: ${(error as Error).message}`);
  }
}
