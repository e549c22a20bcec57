// What an encrypting PIN pad keeps inside its tamper-responsive boundary: its factory identity, the KBPK
// agreed with the host, the PIN encryption key (PEK), and the digits of the PIN being entered. Nothing
// leaves it but its certificate, check values and PIN blocks. The EPP simulator runs it behind a serial
// line; the demo setting's software PIN pads (HID keypad, on-screen keypad) run it in the kiosk's own
// process, which is exactly why they are for demos only.
import { keyCheckValue } from '../../../../protocol/key-block.js';
import { encodePinBlockFormat4FromDigits } from '../../../../protocol/pin-block.js';
import { deriveEppKbpk, openPinKeyBlock, PinKeyDeliveryError } from '../../../../protocol/pin-key-delivery.js';
import type { EppIdentity } from './identity.js';

export type SecureModuleErrorCode = 'NO_EXCHANGE' | 'KEY_REJECTED' | 'KCV_MISMATCH' | 'NO_KEY' | 'BAD_DATA';

export class SecureModuleError extends Error {
  constructor(
    readonly code: SecureModuleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecureModuleError';
  }
}

export interface LoadedPinKey {
  readonly kcv: string;
  readonly version: number;
}

export class EppSecureModule {
  private exchange: { deviceId: string; kbpk: Buffer } | undefined;
  private pek: { key: Buffer; kcv: string; version: number } | undefined;

  constructor(private readonly identity: EppIdentity) {}

  get certificate(): string {
    return this.identity.certificate;
  }

  get serial(): string {
    return this.identity.serial;
  }

  get pinKey(): LoadedPinKey | undefined {
    return this.pek && { kcv: this.pek.kcv, version: this.pek.version };
  }

  /** Agrees the KBPK with the host's ephemeral key for `deviceId`; answers its check value. A new
   *  exchange replaces the previous one; the loaded PEK stays until a block verifies. */
  async exchangeKbpk(deviceId: string, ephemeralPublicKey: Buffer): Promise<string> {
    let kbpk: Buffer;
    try {
      kbpk = deriveEppKbpk(this.identity.privateKey, this.identity.serial, deviceId, ephemeralPublicKey);
    } catch (error) {
      if (error instanceof PinKeyDeliveryError) throw new SecureModuleError('BAD_DATA', error.message);
      throw error;
    }
    this.exchange?.kbpk.fill(0);
    this.exchange = { deviceId, kbpk };
    return keyCheckValue(kbpk);
  }

  /** Loads a PEK key block under the agreed KBPK. A block that does not verify, is for another device, is
   *  not a PIN key or whose stated check value is not its key's changes nothing. The KBPK is used once. */
  async loadKeyBlock(block: string): Promise<LoadedPinKey> {
    const exchange = this.exchange;
    if (!exchange) throw new SecureModuleError('NO_EXCHANGE', 'no KBPK agreed: exchange first');
    this.exchange = undefined;
    try {
      const received = await openPinKeyBlock(exchange.kbpk, exchange.deviceId, block);
      this.pek?.key.fill(0);
      this.pek = { key: received.pek, kcv: received.kcv, version: received.pinKeyVersion };
      return { kcv: received.kcv, version: received.pinKeyVersion };
    } catch (error) {
      if (error instanceof PinKeyDeliveryError) throw new SecureModuleError(error.code === 'KCV_MISMATCH' ? 'KCV_MISMATCH' : 'KEY_REJECTED', error.message);
      throw error;
    } finally {
      exchange.kbpk.fill(0);
    }
  }

  /** The format-4 PIN block of `digits` (values 0..9) bound to `pan`, under the PEK. */
  pinBlock(digits: Uint8Array, pan: string): Buffer {
    if (!this.pek) throw new SecureModuleError('NO_KEY', 'no PIN encryption key is loaded');
    return encodePinBlockFormat4FromDigits(digits, pan, this.pek.key);
  }

  /** Forgets every key but the identity (a tamper response, or a technician's reset). */
  zeroize(): void {
    this.exchange?.kbpk.fill(0);
    this.exchange = undefined;
    this.pek?.key.fill(0);
    this.pek = undefined;
  }
}
