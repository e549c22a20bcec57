// Where a note went when the power went between ROUTE(stack) and its `stacked` event, read from the
// validator's accept counter (header 225) before the stack and after the restart.
import test from 'ava';
import { resolveInterruptedStack } from '../../../kiosk/devices/note-acceptor/interrupted-stack.js';

const LAST = 0xffffff;

test('the counter one higher after the restart: the note reached the stacker', (t) => {
  t.is(resolveInterruptedStack(1234, 1235), 'stacked');
  t.is(resolveInterruptedStack(0, 1), 'stacked', 'the first note of a new validator');
});

test('the counter unchanged: the note did not reach the stacker', (t) => {
  t.is(resolveInterruptedStack(1234, 1234), 'not-stacked');
  t.is(resolveInterruptedStack(LAST, LAST), 'not-stacked');
});

test('the 24-bit counter wraps from 16777215 to 0: that is one note', (t) => {
  t.is(resolveInterruptedStack(LAST, 0), 'stacked');
  t.is(resolveInterruptedStack(LAST - 1, LAST), 'stacked');
  t.is(resolveInterruptedStack(LAST, 1), 'ambiguous', 'two notes across the wrap');
});

test('any other move is ambiguous: more than one note, or a counter that went back', (t) => {
  t.is(resolveInterruptedStack(1234, 1236), 'ambiguous', 'another note was stacked before the read: enable() came first');
  t.is(resolveInterruptedStack(1234, 1233), 'ambiguous', 'backwards');
  t.is(resolveInterruptedStack(1234, 0), 'ambiguous', 'a counter that restarted at power-up keeps nothing');
  t.is(resolveInterruptedStack(1, 0), 'ambiguous');
  t.is(resolveInterruptedStack(0, LAST), 'ambiguous', 'backwards across the wrap is not one note');
});

test('0 then 0 is ambiguous: a counter kept only in RAM reads 0 after power-up whether or not the note was stacked', (t) => {
  t.is(resolveInterruptedStack(0, 0), 'ambiguous');
});

test('a value no 3-byte counter can hold is a bug in the caller', (t) => {
  for (const [before, after] of [[-1, 0], [0, -1], [0x1000000, 1], [1, 0x1000000], [1.5, 2], [1, Number.NaN]] as const) {
    t.throws(() => resolveInterruptedStack(before, after), { instanceOf: RangeError }, `${before} → ${after}`);
  }
});
