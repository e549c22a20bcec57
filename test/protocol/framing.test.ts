import test from 'ava';
import { encodeFrame, FrameDecoder, FrameError } from '../../protocol/framing.js';
import { MAX_FRAME_BYTES } from '../../protocol/limits.js';

test('a frame round-trips, split across arbitrary chunk boundaries', (t) => {
  const documents = [{ a: 1 }, { b: 'é€😀' }, { c: [1, 2, 3] }];
  const bytes = Buffer.concat(documents.map((d) => encodeFrame(d)));
  for (let step = 1; step <= bytes.length; step += 3) {
    const decoder = new FrameDecoder();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += step) out.push(...decoder.push(bytes.subarray(i, i + step)));
    t.deepEqual(out, documents);
    t.is(decoder.pendingBytes, 0);
  }
});

test('the length prefix is 4 bytes big-endian counting the UTF-8 body', (t) => {
  const frame = encodeFrame({ x: 'é' });
  t.is(frame.readUInt32BE(0), Buffer.byteLength('{"x":"é"}'));
  t.is(frame.subarray(4).toString('utf8'), '{"x":"é"}');
});

test('an oversized frame is rejected from its length prefix alone, before its body arrives', (t) => {
  const decoder = new FrameDecoder();
  const header = Buffer.alloc(4);
  header.writeUInt32BE(MAX_FRAME_BYTES + 1);
  const error = t.throws(() => decoder.push(header), { instanceOf: FrameError });
  t.regex(error!.message, /exceeds the maximum/);
  t.throws(() => decoder.push(Buffer.from('x')), { message: /already failed/ });
});

test('encoding refuses a document larger than the maximum frame', (t) => {
  t.throws(() => encodeFrame({ big: 'x'.repeat(MAX_FRAME_BYTES) }), { instanceOf: FrameError });
});

test('empty, non-UTF-8 and non-JSON frames are rejected', (t) => {
  t.throws(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0])), { message: /empty frame/ });
  t.throws(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 2, 0xc3, 0x28])), { message: /UTF-8/ });
  t.throws(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 3, 0x7b, 0x7b, 0x7d])), { message: /JSON/ });
});

test('a truncated frame stays pending and yields nothing', (t) => {
  const decoder = new FrameDecoder();
  const frame = encodeFrame({ hello: 'world' });
  t.deepEqual(decoder.push(frame.subarray(0, frame.length - 1)), []);
  t.is(decoder.pendingBytes, frame.length - 1);
  t.deepEqual(decoder.push(frame.subarray(frame.length - 1)), [{ hello: 'world' }]);
});
