// The K_SHARED transport file names its device, key version and check value, and is refused when any of
// them is missing, malformed, or does not match the key.
import test from 'ava';
import { formatKeyTransport, KeyTransportError, parseKeyTransport } from '../../protocol/key-transport.js';
import { keyCheckValue } from '../../protocol/key-block.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');

test('a transport file round-trips with its device, version and check value', async (t) => {
  const text = await formatKeyTransport('kiosk-017', 3, KEY);
  t.regex(text, /^atm-k-shared v1 kiosk-017 3 [0-9a-f]{64} [0-9A-F]{10}\n$/);
  const parsed = await parseKeyTransport(text);
  t.like(parsed, { deviceId: 'kiosk-017', keyVersion: 3, kcv: await keyCheckValue(KEY) });
  t.deepEqual(parsed.key, KEY);
});

test('a damaged, bare, or malformed transport file is refused without quoting the key', async (t) => {
  const good = await formatKeyTransport('kiosk-017', 3, KEY);
  const flipped = good.replace(' 0011', ' 1011');
  const bad = [
    flipped,
    KEY.toString('hex') + '\n',
    good.replace('atm-k-shared v1', 'atm-k-shared v2'),
    good.replace('kiosk-017', 'Kiosk_017'),
    good.replace(' 3 ', ' 0 '),
    good.replace(/ [0-9A-F]{10}\n$/, '\n'),
    good.replace(/ ([0-9A-F]{10})\n$/, ' 0000000000\n'),
    'x'.repeat(600),
  ];
  for (const text of bad) {
    const error = await t.throwsAsync(parseKeyTransport(text), { instanceOf: KeyTransportError });
    t.false(error!.message.includes(KEY.toString('hex')), 'the key is never quoted');
  }
  await t.throwsAsync(parseKeyTransport(flipped), { message: /does not match its check value/ });
  await t.throwsAsync(parseKeyTransport(KEY.toString('hex')), { message: /bare key/ });
});

test('only a 32-byte key for a valid device id and version is written', async (t) => {
  await t.throwsAsync(formatKeyTransport('kiosk-017', 1, Buffer.alloc(16)), { instanceOf: KeyTransportError });
  await t.throwsAsync(formatKeyTransport('k', 1, KEY), { instanceOf: KeyTransportError });
  await t.throwsAsync(formatKeyTransport('kiosk-017', 0, KEY), { instanceOf: KeyTransportError });
});
