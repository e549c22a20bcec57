// Key blocks (ANSI X9.143 / TR-31, version D) and AES-CMAC key check values, held to the published
// examples: TR-31:2018 A.7.4 and ANSI X9.143:2021 8.1 (the same PIN key under an AES-256 KBPK, masked to
// 16 and to 32 bytes), and two blocks made by a Thales payShield 10k (as published with the openemv tr31
// tests).
import test from 'ava';
import { KeyBlockError, keyCheckValue, parseKeyBlockHeader, unwrapKeyBlock, wrapKeyBlock } from '../../protocol/key-block.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const A74_KBPK = hex('88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6');
const A74_KEY = hex('3F419E1CB7079442AA37474C2EFBF8B8');
const A74_BLOCK = 'D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC34';
const X9143_81_BLOCK = 'D0144P0AE00E00002C77FA3F4A553BED6E88AE5C172A4166E3D4ACA8E2AC71C158A476FAC12C13C3829DE55D3AB54C48F4C4FEF7AC75E90FC47F1B77E7B19A73ED46E64410082557';

test('wrapping the TR-31:2018 A.7.4 example key with its padding gives the published block', async (t) => {
  const block = await wrapKeyBlock(
    A74_KBPK,
    { keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', keyVersion: '00', exportability: 'E', optionalBlocks: [] },
    A74_KEY,
    { maskedKeyBytes: 16, padding: hex('1C2965473CE206BB855B01533782') },
  );
  t.is(block, A74_BLOCK);
});

test('the published version D blocks unwrap to their keys, and the keys have the published check values', async (t) => {
  const vectors = [
    { kbpk: A74_KBPK, block: A74_BLOCK, key: A74_KEY, kcv: '08793E' },
    { kbpk: A74_KBPK, block: X9143_81_BLOCK, key: A74_KEY, kcv: '08793E25AB' },
    {
      kbpk: Buffer.alloc(32, 0x41),
      block: 'D0112B0TN00N000037DB9B046B7B0048785690759580ABC3B9842AB4BB7717B49E92528E575785D8123559376A2553B27BE94F054F4E971C',
      key: hex('1FA1F7CEC798D91545DA8AE0C7796BD9'),
      kcv: undefined, // a TDES key: its check value is not a CMAC one
    },
    {
      kbpk: Buffer.alloc(32, 0x41),
      block: 'D0144D0AN00N0000127862F945C2DED04530FAF7CDBC8B0BA10C7AA79BD5E0C2C5D6AC173BF588E4B19ACF1357178D50EA0AB193228E13958304FC6149632DFDCADF3A5B3D57E814',
      key: hex('BE19E6A07A760F10EF8E83A226B63AAD141F463FDDD4F47DB244B4023EC3CACC'),
      kcv: '0A00E3',
    },
  ];
  for (const v of vectors) {
    const { key } = await unwrapKeyBlock(v.kbpk, v.block);
    t.deepEqual(key, v.key);
    if (v.kcv !== undefined) t.true((await keyCheckValue(key)).startsWith(v.kcv));
  }
});

test('a block with optional blocks round-trips, and the header is readable without the key', async (t) => {
  const kbpk = Buffer.alloc(32, 7);
  const key = Buffer.alloc(32, 9);
  const header = {
    keyUsage: 'P0',
    algorithm: 'A',
    modeOfUse: 'E',
    keyVersion: '03',
    exportability: 'N',
    optionalBlocks: [
      { id: 'KC', data: `01${await keyCheckValue(key)}` },
      { id: 'KP', data: `01${await keyCheckValue(kbpk)}` },
      { id: 'LB', data: 'pek kiosk-017' },
    ],
  };
  const block = await wrapKeyBlock(kbpk, header, key);
  t.deepEqual(parseKeyBlockHeader(block).optionalBlocks, header.optionalBlocks);
  const opened = await unwrapKeyBlock(kbpk, block);
  t.deepEqual(opened.key, key);
  t.deepEqual(opened.header, header);
});

test('a wrong protection key, a changed header, a changed payload or a changed MAC is refused with one answer', async (t) => {
  const kbpk = Buffer.alloc(32, 7);
  const block = await wrapKeyBlock(kbpk, { keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', keyVersion: '01', exportability: 'N', optionalBlocks: [{ id: 'LB', data: 'kiosk-001' }] }, Buffer.alloc(32, 1));
  const flip = (at: number) => block.slice(0, at) + (block[at] === 'A' ? 'B' : 'A') + block.slice(at + 1);
  const failures = [
    unwrapKeyBlock(Buffer.alloc(32, 8), block),
    unwrapKeyBlock(kbpk, block.replace('P0AE01', 'P0AE02')), // key version
    unwrapKeyBlock(kbpk, block.replace('kiosk-001', 'kiosk-002')), // label
    unwrapKeyBlock(kbpk, flip(40)), // payload
    unwrapKeyBlock(kbpk, flip(block.length - 1)), // MAC
  ];
  for (const failure of failures) {
    const error = await t.throwsAsync(failure, { instanceOf: KeyBlockError });
    t.is(error?.message, 'the key block does not verify under this key block protection key');
  }
});

test('malformed blocks are refused before any key is used', (t) => {
  const bad = [
    '',
    'D0112',
    A74_BLOCK.replace('D0112', 'A0112'), // another version
    A74_BLOCK.replace('D0112', 'D0113'), // length field
    A74_BLOCK.slice(0, -2), // cut short
    A74_BLOCK.replace('E0000B8', 'E0100B8'), // one optional block announced, none there
    A74_BLOCK.slice(0, 16) + 'zz' + A74_BLOCK.slice(18), // not hex
  ];
  for (const block of bad) t.throws(() => parseKeyBlockHeader(block), { instanceOf: KeyBlockError }, JSON.stringify(block.slice(0, 20)));
});

test('check values need an AES key', async (t) => {
  await t.throwsAsync(keyCheckValue(Buffer.alloc(15)), { instanceOf: KeyBlockError });
  t.is((await keyCheckValue(A74_KEY)).length, 10);
});
