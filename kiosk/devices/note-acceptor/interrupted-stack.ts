// Where a note went when the power (or the kiosk) went between ROUTE(stack) and the `stacked` event. The
// validator clears its event buffer at power-up, so the events cannot say; its accept counter (header 225,
// the notes accepted into the stacker, kept across power cycles) can. The rule, which the deposit flow
// follows and docs/devices.md "Interrupted stacking" explains:
//
//   1. read `acceptCounter()` and journal it as `before`, then send ROUTE(stack);
//   2. after a restart with that stacking still in the journal, read `acceptCounter()` again as `after`,
//      BEFORE `enable()` and `reset()` — the validator comes up disabled, so no other note can reach the
//      stacker first, and some validators clear their counters on a reset;
//   3. `resolveInterruptedStack(before, after)`: 'stacked' → credit the note the escrow event named;
//      'not-stacked' → credit nothing (the validator gave it back at power-up); 'ambiguous' → an operator.
//
// Pure: no I/O, so every case, the wrap included, is tested on numbers.

import { THREE_BYTE_MODULUS, isThreeByteNumber } from './headers.js';

export type InterruptedStackOutcome =
  /** The counter moved by exactly one: the note in escrow reached the stacker. */
  | 'stacked'
  /** The counter did not move: the note did not reach the stacker. */
  | 'not-stacked'
  /** Anything else: the counter cannot say, and nobody may guess. */
  | 'ambiguous';

/**
 * `before` is the accept counter read just before ROUTE(stack), `after` the one read after the restart;
 * both as header 225 reports them (0 .. 2^24 - 1). The counter wraps from 2^24 - 1 to 0, so 16 777 215
 * then 0 is one note. A RangeError for a value no 3-byte counter can hold: a bug in the caller.
 *
 * 0 then 0 is 'ambiguous', not 'not-stacked': some validators keep this counter only in RAM and read 0
 * after every power-up (see docs/devices.md), and on those a note stacked just before the power went
 * reads exactly like one that was not. A counter kept across power cycles reads 0 before a note only
 * when new (or after 16.7 million notes), so the case costs an operator visit once in a validator's life.
 */
export function resolveInterruptedStack(before: number, after: number): InterruptedStackOutcome {
  if (!isThreeByteNumber(before)) throw new RangeError(`accept counter before the stack ${before} is not 0..${THREE_BYTE_MODULUS - 1}`);
  if (!isThreeByteNumber(after)) throw new RangeError(`accept counter after the restart ${after} is not 0..${THREE_BYTE_MODULUS - 1}`);
  const notesAccepted = (after - before + THREE_BYTE_MODULUS) % THREE_BYTE_MODULUS;
  if (notesAccepted === 1) return 'stacked';
  if (notesAccepted === 0 && before !== 0) return 'not-stacked';
  return 'ambiguous';
}
