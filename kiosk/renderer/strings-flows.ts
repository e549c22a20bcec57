// The words of a real ATM's flows, in English and French: another transaction, the last PIN try and a
// blocked card, the idle countdown, cash taken back, PIN change, receipts chosen before cash. Merged into
// the one table the screens read (i18n.ts's stringsFor); notice codes here join i18n.ts's.
import type { Language } from '../preload/api.js';
import type { NoticeFigures } from './format.js';

const en = {
  anotherTitle: 'Would you like another transaction?',
  anotherYes: 'Yes, another transaction',
  anotherNo: 'No, I am done',
  /** Goodbye's line when a notice already says why the session ended (never "ended" twice). */
  goodbyeThanks: 'Have a good day.',
  cardBlockedTitle: 'Your card is blocked',
  cardBlockedBody: 'For your security, this card cannot be used any more. Please contact your bank.',
  idleCountdown: (seconds: number) => (seconds === 1 ? 'Your session ends in 1 second.' : `Your session ends in ${seconds} seconds.`),
  receiptWanted: 'Print a receipt',
  printBalance: 'Print',
  menuPinChange: 'Change PIN',
  otherAmountNotes: (notes: string) => `Whole dollars. This machine pays in ${notes} notes.`,
  pinChangeOld: 'Enter your current PIN',
  pinChangeNew: 'Enter your new PIN',
  pinChangeConfirm: 'Enter your new PIN again',
  takeCashAmount: (amount: string) => `${amount} is waiting for you below the screen.`,
  takeCashCountdown: (seconds: number) =>
    seconds === 1 ? 'Cash not taken within 1 second goes back into the machine.' : `Cash not taken within ${seconds} seconds goes back into the machine.`,
  notices: {
    CASH_RETRACTED: 'You did not take your cash in time, so the machine took it back. You were not charged for it.',
    PIN_CHANGED: 'Your PIN has been changed. Use your new PIN from now on.',
    PIN_MISMATCH: 'The two new PINs were not the same. Please enter your new PIN again.',
    NOT_CARD_SESSION: 'Your PIN can be changed only when you sign in with your card.',
    WRONG_PIN_LAST_TRY: 'That PIN is wrong. You have one try left: another wrong PIN will block your card.',
  } as Record<string, string>,
  noticeSentences: {
    CASH_RETRACTED: ({ amount }) => amount && `You did not take your cash in time, so the machine took back ${amount}. You were not charged for it.`,
  } as Record<string, (figures: NoticeFigures) => string | undefined>,
};

export type FlowStrings = typeof en;

const fr: FlowStrings = {
  anotherTitle: 'Voulez-vous faire une autre opération?',
  anotherYes: 'Oui, une autre opération',
  anotherNo: "Non, j'ai terminé",
  goodbyeThanks: 'Bonne journée.',
  cardBlockedTitle: 'Votre carte est bloquée',
  cardBlockedBody: 'Pour votre sécurité, cette carte ne peut plus être utilisée. Veuillez communiquer avec votre banque.',
  idleCountdown: (seconds: number) => (seconds <= 1 ? `Votre session se termine dans ${seconds} seconde.` : `Votre session se termine dans ${seconds} secondes.`),
  receiptWanted: 'Imprimer un reçu',
  printBalance: 'Imprimer',
  menuPinChange: 'Changer de NIP',
  otherAmountNotes: (notes: string) => `En dollars entiers. Ce guichet paie en billets de ${notes}.`,
  pinChangeOld: 'Entrez votre NIP actuel',
  pinChangeNew: 'Entrez votre nouveau NIP',
  pinChangeConfirm: 'Entrez de nouveau votre nouveau NIP',
  takeCashAmount: (amount: string) => `${amount} vous attendent sous l'écran.`,
  takeCashCountdown: (seconds: number) =>
    seconds <= 1 ? `Les billets non pris d'ici ${seconds} seconde retournent dans le guichet.` : `Les billets non pris d'ici ${seconds} secondes retournent dans le guichet.`,
  notices: {
    CASH_RETRACTED: "Vous n'avez pas pris vos billets à temps : le guichet les a repris. Ils ne vous ont pas été facturés.",
    PIN_CHANGED: 'Votre NIP a été changé. Utilisez désormais votre nouveau NIP.',
    PIN_MISMATCH: 'Les deux nouveaux NIP ne sont pas identiques. Veuillez entrer de nouveau votre nouveau NIP.',
    NOT_CARD_SESSION: 'Votre NIP ne peut être changé que si vous vous identifiez avec votre carte.',
    WRONG_PIN_LAST_TRY: 'Ce NIP est erroné. Il vous reste un essai : un autre NIP erroné bloquera votre carte.',
  },
  noticeSentences: {
    CASH_RETRACTED: ({ amount }) => amount && `Vous n'avez pas pris vos billets à temps : le guichet a repris ${amount}. Ce montant ne vous a pas été facturé.`,
  },
};

export const flowStrings: Record<Language, FlowStrings> = { en, fr };

/** `base` with the flows' words added; their notices join the base's. */
export function withFlowStrings<T extends { notices: Record<string, string>; noticeSentences: Record<string, (figures: NoticeFigures) => string | undefined> }>(
  base: T,
  flows: FlowStrings,
): T & FlowStrings {
  return { ...base, ...flows, notices: { ...base.notices, ...flows.notices }, noticeSentences: { ...base.noticeSentences, ...flows.noticeSentences } };
}
