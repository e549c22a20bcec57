// The words of the kiosk's supervisor mode (a technician's replenishment and balancing), in English and
// French, and the notices it adds. Beside i18n.ts, which holds the customer's words and is at its size
// limit; i18n.ts merges the notices below into its own, so one NoticeBanner speaks both.
import type { Language, SupervisorCount } from '../preload/api.js';

/** The figures a notice's sentence may name (i18n.ts's NoticeFigures; not imported, so neither module needs the other first). */
type NoticeFigures = { readonly amount?: string | undefined; readonly notes?: string | undefined };

const en = {
  supervisorTitle: 'Supervisor mode',
  supervisorTechnician: (name: string) => `Technician: ${name}`,
  supervisorHint: 'Print the counters, unload and count each container, load new cassettes, then close.',
  printCounters: 'Print counters',
  unloadCassettes: 'Unload cassettes',
  unloadCashbox: 'Empty cashbox',
  loadCassettes: 'Load cassettes',
  closeReplenishment: 'Close and print receipt',
  stepToDo: 'To do',
  stepDifference: (difference: string) => `Difference ${difference}`,
  stepBalanced: 'Balanced',
  stepLoaded: (amount: string) => `Loaded ${amount}`,
  stepFirstUnload: 'Unload first',
  countTitle: (step: SupervisorCount): string =>
    step === 'unload-cassettes' ? 'Notes in the cassettes' : step === 'unload-cashbox' ? 'Notes in the cashbox' : 'Notes loaded in the cassettes',
  countHint: 'Touch a note, then type how many you counted.',
  countNote: (note: string, count: number) => `${note} × ${count}`,
  countTotal: (amount: string) => `Total ${amount}`,
  countKeypad: 'Note count keypad',
  countSubmit: 'Confirm count',
  notices: {
    COUNTERS_PRINTED: 'The counters are printed.',
    COUNT_BALANCED: 'The count matches the ledger.',
    COUNT_DIFFERENCE: 'The count differs from the ledger. The difference is recorded for the bank.',
    CASSETTES_LOADED: 'The new cassettes are recorded.',
    REPLENISHMENT_CLOSED: 'Replenishment closed. Please take the balancing receipt.',
    ROLE_NOT_ALLOWED: 'This card cannot do that here.',
    REPLENISHMENT_STEP_DONE: 'That container was already counted.',
    REPLENISHMENT_ORDER: 'Unload the cassettes before loading new ones.',
    UNKNOWN_REPLENISHMENT: 'This replenishment is closed. Sign in again to start another.',
    BAD_NOTES: 'A count names a note this container does not hold.',
  } as Record<string, string>,
  noticeSentences: {
    COUNT_DIFFERENCE: ({ amount }) => amount && `The count differs from the ledger by ${amount}. The difference is recorded for the bank.`,
    CASSETTES_LOADED: ({ amount }) => amount && `The new cassettes are recorded: ${amount}.`,
  } as Record<string, (figures: NoticeFigures) => string | undefined>,
};

export type SupervisorStrings = typeof en;

const fr: SupervisorStrings = {
  supervisorTitle: 'Mode superviseur',
  supervisorTechnician: (name: string) => `Technicien : ${name}`,
  supervisorHint: 'Imprimez les compteurs, videz et comptez chaque contenant, chargez les nouvelles cassettes, puis terminez.',
  printCounters: 'Imprimer les compteurs',
  unloadCassettes: 'Retirer les cassettes',
  unloadCashbox: 'Vider le coffre',
  loadCassettes: 'Charger les cassettes',
  closeReplenishment: 'Terminer et imprimer le reçu',
  stepToDo: 'À faire',
  stepDifference: (difference: string) => `Écart ${difference}`,
  stepBalanced: 'Équilibré',
  stepLoaded: (amount: string) => `Chargé ${amount}`,
  stepFirstUnload: 'Retirer d’abord',
  countTitle: (step: SupervisorCount): string =>
    step === 'unload-cassettes' ? 'Billets dans les cassettes' : step === 'unload-cashbox' ? 'Billets dans le coffre' : 'Billets chargés dans les cassettes',
  countHint: 'Touchez un billet, puis tapez combien vous en avez comptés.',
  countNote: (note: string, count: number) => `${note} × ${count}`,
  countTotal: (amount: string) => `Total ${amount}`,
  countKeypad: 'Clavier du nombre de billets',
  countSubmit: 'Confirmer le compte',
  notices: {
    COUNTERS_PRINTED: 'Les compteurs sont imprimés.',
    COUNT_BALANCED: 'Le compte correspond au grand livre.',
    COUNT_DIFFERENCE: 'Le compte diffère du grand livre. L’écart est inscrit pour la banque.',
    CASSETTES_LOADED: 'Les nouvelles cassettes sont inscrites.',
    REPLENISHMENT_CLOSED: 'Réapprovisionnement terminé. Prenez le reçu d’équilibrage.',
    ROLE_NOT_ALLOWED: 'Cette carte ne permet pas cette opération ici.',
    REPLENISHMENT_STEP_DONE: 'Ce contenant a déjà été compté.',
    REPLENISHMENT_ORDER: 'Retirez les cassettes avant d’en charger de nouvelles.',
    UNKNOWN_REPLENISHMENT: 'Ce réapprovisionnement est terminé. Reconnectez-vous pour en commencer un autre.',
    BAD_NOTES: 'Un compte nomme un billet que ce contenant ne contient pas.',
  },
  noticeSentences: {
    COUNT_DIFFERENCE: ({ amount }) => amount && `Le compte diffère du grand livre de ${amount}. L’écart est inscrit pour la banque.`,
    CASSETTES_LOADED: ({ amount }) => amount && `Les nouvelles cassettes sont inscrites : ${amount}.`,
  },
};

const STRINGS: Record<Language, SupervisorStrings> = { en, fr };

export function supervisorStringsFor(language: Language): SupervisorStrings {
  return STRINGS[language];
}

/** A customer-side strings table with the supervisor notices added (i18n.ts calls it once per language). */
export function withSupervisorNotices<T extends { notices: Record<string, string>; noticeSentences: Record<string, (figures: NoticeFigures) => string | undefined> }>(strings: T, language: Language): T {
  return { ...strings, notices: { ...strings.notices, ...STRINGS[language].notices }, noticeSentences: { ...strings.noticeSentences, ...STRINGS[language].noticeSentences } };
}
