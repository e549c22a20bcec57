// Opens the kiosk's replenishment journal and the Replenisher on it, at start. A journal that cannot be
// opened (a damaged line) is a journal problem like the kiosk journal's: out of service until a technician
// has looked, since guessing could post a count twice or leave the dispenser's counts wrong.
import { describe } from '../../common/errors.js';
import type { KioskConfig } from '../config.js';
import { JournalCorruptError } from '../journal-lines.js';
import { Replenisher, type ReplenisherDeps } from './replenisher.js';
import { ReplenishmentJournal } from './replenishment-journal.js';

export async function openReplenisher(
  config: KioskConfig,
  deps: Omit<ReplenisherDeps, 'journal' | 'cassetteDenominationsCents' | 'onStep'> & { readonly onStep?: ReplenisherDeps['onStep'] | undefined },
  onProblem: (problem: string) => void,
): Promise<Replenisher | undefined> {
  try {
    const journal = await ReplenishmentJournal.open(config.journalDir);
    const { onStep, ...rest } = deps;
    return new Replenisher({ ...rest, journal, cassetteDenominationsCents: config.cassettes.map((c) => c.denominationCents), ...(onStep !== undefined && { onStep }) });
  } catch (error) {
    const problem = `replenishment journal: ${error instanceof JournalCorruptError ? error.message : `cannot open: ${describe(error)}`}`;
    deps.log.error('replenishment journal unusable', { error: problem });
    onProblem(problem);
    return undefined;
  }
}
