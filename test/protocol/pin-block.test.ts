import test from 'ava';
import fc from 'fast-check';
import { createDecipheriv, createHmac } from 'node:crypto';
import {
  decodePinBlockFormat4,
  encodePinBlockFormat4,
  encodePinBlockFormat4FromDigits,
  PinBlockError,
  type PinBlockErrorCode,
} from '../../protocol/pin-block.js';
import { PSK_BYTES } from '../../protocol/limits.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// Published vectors, as used by the psec test suite (github.com/knovichikhin/psec, tests/test_pinblock.py):
//  - ep2 (eft/pos 2000) Security Specification 8.0.0, §8.4 "PIN Encryption": key C1D0…EF0D, PAN
//    432198765432109870, PIN 1234 → CC17F65586BFD0953010226C4FC5B3CA (random padding not published, so
//    this vector is checked by deciphering);
//  - psec's deterministic vector: key 00112233445566778899AABBCCDDEEFF, PIN 1234, PAN
//    1234567890123456789, random padding FF×8 → 28B41FDDD29B743E93124BD8E32D921E;
//  - psec's short-PAN vector: same key, PAN "1", PIN 123456 → 39B69B1B91FE05D48F7EF0D68EB2CBD6.
const EP2_KEY = hex('C1D0F8FB4958670DBA40AB1F3752EF0D');
const EP2_BLOCK = hex('CC17F65586BFD0953010226C4FC5B3CA');
const EP2_PAN = '432198765432109870';
const PSEC_KEY = hex('00112233445566778899AABBCCDDEEFF');

test('deciphers the ep2 published format 4 vector', (t) => {
  t.is(decodePinBlockFormat4(EP2_BLOCK, EP2_PAN, EP2_KEY), '1234');
});

test('enciphers the psec deterministic vector bit for bit', (t) => {
  const block = encodePinBlockFormat4('1234', '1234567890123456789', PSEC_KEY, Buffer.alloc(8, 0xff));
  t.is(block.toString('hex').toUpperCase(), '28B41FDDD29B743E93124BD8E32D921E');
  t.is(decodePinBlockFormat4(block, '1234567890123456789', PSEC_KEY), '1234');
});

test('a PAN shorter than 12 digits is left-padded (psec short-PAN vector)', (t) => {
  t.is(decodePinBlockFormat4(hex('39B69B1B91FE05D48F7EF0D68EB2CBD6'), '1', PSEC_KEY), '123456');
});

test('the plain PIN field has control 4, length, digits, fill A, then the random bytes', (t) => {
  const random = hex('0102030405060708');
  const block = encodePinBlockFormat4('98765', '4111111111111111', PSEC_KEY, random);
  // Undo the outer layers by hand to look at the plain PIN field.
  const aesDecrypt = (input: Buffer): Buffer => {
    const d = createDecipheriv('aes-128-ecb', PSEC_KEY, null);
    d.setAutoPadding(false);
    return Buffer.concat([d.update(input), d.final()]);
  };
  const intermediate = aesDecrypt(block);
  const panField = hex('44111111111111111000000000000000');
  for (let i = 0; i < 16; i++) intermediate[i] = intermediate[i]! ^ panField[i]!;
  t.is(aesDecrypt(intermediate).toString('hex').toUpperCase(), '4598765AAAAAAAAA0102030405060708');
});

test('round-trips every PIN length with AES-128, AES-192 and AES-256 keys', (t) => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[0-9]{4,12}$/),
      fc.stringMatching(/^[0-9]{1,19}$/),
      fc.constantFrom(16, 24, 32),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (pin, pan, keyBytes, keyMaterial) => {
        const key = Buffer.from(keyMaterial.subarray(0, keyBytes));
        return decodePinBlockFormat4(encodePinBlockFormat4(pin, pan, key), pan, key) === pin;
      },
    ),
  );
  t.pass();
});

test('two encipherments of the same PIN differ because of the random padding', (t) => {
  const a = encodePinBlockFormat4('1234', EP2_PAN, EP2_KEY);
  const b = encodePinBlockFormat4('1234', EP2_PAN, EP2_KEY);
  t.false(a.equals(b));
});

function codeOf(t: import('ava').ExecutionContext, fn: () => unknown): PinBlockErrorCode | undefined {
  const error = t.throws(fn, { instanceOf: PinBlockError });
  return error?.code;
}

test('rejects PINs that are too short, too long or not digits, without echoing them', (t) => {
  for (const pin of ['', '123', '1234567890123', '12a4', '12 4', '١٢٣٤']) {
    const error = t.throws(() => encodePinBlockFormat4(pin, EP2_PAN, EP2_KEY), { instanceOf: PinBlockError });
    t.is(error?.code, 'BAD_PIN');
    if (pin.length > 0) t.false(error!.message.includes(pin));
  }
  t.is(codeOf(t, () => encodePinBlockFormat4FromDigits(new Uint8Array([1, 2, 3, 10]), EP2_PAN, EP2_KEY)), 'BAD_PIN');
});

test('rejects a PAN that is empty, longer than 19 digits or not digits', (t) => {
  for (const pan of ['', '12345678901234567890', '41111111111111x1']) {
    t.is(codeOf(t, () => encodePinBlockFormat4('1234', pan, EP2_KEY)), 'BAD_PAN');
    t.is(codeOf(t, () => decodePinBlockFormat4(EP2_BLOCK, pan, EP2_KEY)), 'BAD_PAN');
  }
});

test('rejects keys that are not AES-128/192/256 and random padding that is not 8 bytes', (t) => {
  t.is(codeOf(t, () => encodePinBlockFormat4('1234', EP2_PAN, Buffer.alloc(8))), 'BAD_KEY');
  t.is(codeOf(t, () => decodePinBlockFormat4(EP2_BLOCK, EP2_PAN, Buffer.alloc(33))), 'BAD_KEY');
  t.is(codeOf(t, () => encodePinBlockFormat4('1234', EP2_PAN, EP2_KEY, Buffer.alloc(7))), 'BAD_RANDOM');
});

test('rejects a block that is not 16 bytes', (t) => {
  t.is(codeOf(t, () => decodePinBlockFormat4(EP2_BLOCK.subarray(0, 15), EP2_PAN, EP2_KEY)), 'BAD_BLOCK_LENGTH');
  t.is(codeOf(t, () => decodePinBlockFormat4(Buffer.concat([EP2_BLOCK, Buffer.alloc(1)]), EP2_PAN, EP2_KEY)), 'BAD_BLOCK_LENGTH');
});

const STRUCTURE_CODES: PinBlockErrorCode[] = ['BAD_CONTROL_FIELD', 'BAD_PIN_LENGTH', 'BAD_PIN_DIGIT', 'BAD_FILL'];

test('a wrong PAN fails the PIN field checks', (t) => {
  t.true(STRUCTURE_CODES.includes(codeOf(t, () => decodePinBlockFormat4(EP2_BLOCK, '432198765432109871', EP2_KEY))!));
  // PAN binding covers the length indicator too: the same digits with one more leading digit differ.
  t.true(STRUCTURE_CODES.includes(codeOf(t, () => decodePinBlockFormat4(EP2_BLOCK, '5432198765432109870', EP2_KEY))!));
});

test('a wrong key fails the PIN field checks', (t) => {
  t.true(STRUCTURE_CODES.includes(codeOf(t, () => decodePinBlockFormat4(EP2_BLOCK, EP2_PAN, PSEC_KEY))!));
});

test('a tampered block fails the PIN field checks, whichever byte is flipped', (t) => {
  for (let i = 0; i < 16; i++) {
    const tampered = Buffer.from(EP2_BLOCK);
    tampered[i] = tampered[i]! ^ 0x01;
    t.true(STRUCTURE_CODES.includes(codeOf(t, () => decodePinBlockFormat4(tampered, EP2_PAN, EP2_KEY))!), `byte ${i}`);
  }
});

test('decode errors never carry the PIN', (t) => {
  const block = encodePinBlockFormat4('8642', EP2_PAN, EP2_KEY);
  const error = t.throws(() => decodePinBlockFormat4(block, '432198765432109871', EP2_KEY), { instanceOf: PinBlockError });
  t.false(error!.message.includes('8642'));
  t.false(JSON.stringify(error).includes('8642'));
});

test('no PIN key is derived from K_SHARED: pin-block.ts offers no derivation, and the PIN key is its own length constant', async (t) => {
  const module = await import('../../protocol/pin-block.js');
  t.false(Object.keys(module).some((name) => /derive|shared/i.test(name)), Object.keys(module).join(', '));
  t.is(module.PIN_KEY_BYTES, 32);
});

test('pin-block.ts imports nothing but node:crypto, so kiosk and bank host can both load it', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile('protocol/pin-block.ts', 'utf8');
  const imports = [...text.matchAll(/^import .* from ['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  t.deepEqual(imports, ['node:crypto']);
});
