// Whether a note whose stacking was interrupted (a power loss, a lost event) reached the stacker, from the
// acceptor's non-volatile count of notes stacked read before the ROUTE and after. Stand-in until the note
// acceptor driver exports its own resolveInterruptedStack (branch note-acceptor-2); same contract.
export type InterruptedStack = 'stacked' | 'not-stacked' | 'ambiguous';

export function resolveInterruptedStack(before: number, after: number): InterruptedStack {
  if (after === before + 1) return 'stacked';
  if (after === before) return 'not-stacked';
  // Anything else (a counter that went back, or moved by more than the one note): another note moved,
  // or the counter is not what we think: never guessed.
  return 'ambiguous';
}
