// What the customer hears for each notice (ui-contract.ts `Notice`), in English and French. The same
// sentences as the screen's (kiosk/renderer/i18n.ts), which the main process cannot import (the renderer
// is its own runtime); test/kiosk/core/speech-texts.test.ts fails when a notice the screen shows has no
// spoken sentence here. Amounts come in already spoken ("20 dollars"), never as "$20.00", which
// espeak-ng reads as "dollar twenty point zero zero".
import type { Language } from '../ui-contract.js';

/** The figures a sentence may name, already in words. */
export interface SpokenFigures {
  readonly amount?: string | undefined;
  readonly notes?: string | undefined;
}

interface NoticeTable {
  readonly plain: Readonly<Record<string, string>>;
  /** Sentences holding their figure: undefined when the notice does not carry it (then `plain`). */
  readonly sentences: Readonly<Record<string, (figures: SpokenFigures) => string | undefined>>;
  readonly fallback: string;
}

const en: NoticeTable = {
  plain: {
    WRONG_PIN: 'That PIN is wrong. Please try again.',
    CARD_BLOCKED: 'This card is blocked. Please contact your bank.',
    CARD_UNKNOWN: 'This card cannot be used here.',
    CARD_EXPIRED: 'This card has expired.',
    BAD_SWIPE: 'The card could not be read. Please swipe again, a little slower.',
    BAD_CREDENTIALS: 'The username or password is wrong.',
    LOCKED_OUT: 'Too many tries. Please try again later.',
    USERNAME_TAKEN: 'That username is taken. Please choose another.',
    WEAK_PASSWORD: 'That password is too weak: use at least 8 characters, not your username.',
    REGISTRATION_DISABLED: 'New accounts cannot be opened at this machine.',
    INSUFFICIENT_FUNDS: 'There is not enough money in this account.',
    LIMIT_EXCEEDED: 'That amount is above the limit for one withdrawal.',
    DAILY_LIMIT_EXCEEDED: 'That amount is above your daily withdrawal limit.',
    NOT_DISPENSABLE: 'That amount cannot be paid in the notes available.',
    NOT_PAYABLE: 'This machine cannot pay that amount with the notes it has. Try another amount.',
    BAD_AMOUNT: 'That amount is not valid.',
    SAME_ACCOUNT: 'Choose two different accounts.',
    UNKNOWN_ACCOUNT: 'That account cannot be used.',
    // The flows of a real ATM (kiosk/renderer/strings-flows.ts).
    CASH_RETRACTED: 'You did not take your cash in time, so the machine took it back. You were not charged for it.',
    PIN_CHANGED: 'Your PIN has been changed. Use your new PIN from now on.',
    PIN_MISMATCH: 'The two new PINs were not the same. Please enter your new PIN again.',
    NOT_CARD_SESSION: 'Your PIN can be changed only when you sign in with your card.',
    WRONG_PIN_LAST_TRY: 'That PIN is wrong. You have one try left: another wrong PIN will block your card.',
    // A technician's supervisor mode (kiosk/renderer/supervisor-strings.ts).
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
    SHORT_DISPENSE: 'Only part of the amount could be paid; you were charged only for the cash you received.',
    DISPENSER_JAM: 'The cash dispenser jammed. No money was taken from your account.',
    DISPENSE_FAILED: 'The cash could not be dispensed. No money was taken from your account.',
    DISPENSER_UNAVAILABLE: 'The cash dispenser is not available. No money was taken from your account.',
    WITHDRAWAL_UNAVAILABLE: 'Withdrawals are not available at this machine right now.',
    TRANSACTION_INCOMPLETE: 'The bank did not confirm your withdrawal. It will be settled automatically; you will not be charged twice.',
    UNCONFIRMED: 'The bank did not confirm your transaction, so it may or may not have been made. Please check your history before trying again; it is never made twice.',
    HOST_UNAVAILABLE: 'The bank cannot be reached right now. Please try again later.',
    TIMEOUT: 'Your session ended because there was no activity.',
    CANCELLED: 'Your session was cancelled.',
    SESSION_EXPIRED: 'Your session expired.',
    NOT_SIGNED_IN: 'Your session ended.',
    RECEIPT_UNAVAILABLE: 'Sorry, the receipt could not be printed.',
    RECEIPT_PRINTED: 'Please take your receipt.',
    PRINTER_OUT_OF_PAPER: 'Sorry, the printer is out of paper.',
    PIN_TOO_SHORT: 'A PIN has at least 4 digits.',
    PIN_PAD_UNAVAILABLE: 'The PIN pad stopped working. Please try again later.',
    DEPOSIT_UNAVAILABLE: 'Deposits are not available at this machine right now.',
    DEPOSITS_UNAVAILABLE: 'Deposits are not available at this machine right now.',
    DEPOSIT_LIMIT_EXCEEDED: 'You have reached your deposit limit for today.',
    DEPOSIT_LIMIT_REACHED: "That note would take you over today's deposit limit. Please take it back.",
    DEPOSIT_NOTES_MAX: 'This deposit holds as many notes as it can. Finish it, then make another deposit.',
    DEPOSIT_STOPPED: 'The note reader stopped. You were credited for the notes it counted.',
    DEPOSIT_REVIEW: 'Your deposit is being checked by the bank. The notes counted will be credited once it is.',
    DEPOSIT_UNCONFIRMED: 'The bank has not confirmed your deposit yet. The notes counted will be credited automatically, never twice.',
    DEPOSIT_INCOMPLETE: 'Your deposit could not be finished here. The notes counted will be credited; please check your balance later.',
    DEPOSIT_CANCELLED: 'Deposit cancelled. Nothing was deposited.',
    DEPOSIT_CANCELLED_CREDITED: 'Deposit cancelled. Notes already counted cannot be given back, so they were credited.',
    DEPOSIT_NO_NOTES: 'No notes were counted, so nothing was deposited.',
    DEPOSIT_CREDITED: 'Your deposit was credited.',
    DEPOSIT_CREDITED_TIMEOUT: 'Your session ended because there was no activity. Your deposit was credited.',
    NOTE_RETURNED: 'Please take back your note.',
    NOTE_ACCEPTOR_JAM: 'A note jammed in the reader. You were credited for the notes counted. If a note stayed in the machine, please contact your bank.',
    NOTE_ACCEPTOR_FULL: 'This machine cannot take more notes. You were credited for the notes counted.',
    NOTE_REJECTED_INVALID: 'That note could not be accepted. Please take it back.',
    NOTE_REJECTED_TRANSPORT: 'That note could not be read. Please take it back and try again.',
    NOTE_REJECTED_NOT_TAKEN: 'This machine does not take that note. Please take it back.',
    NOTE_REJECTED_BARCODE: 'This machine takes bank notes only. Please take back your ticket.',
  },
  sentences: {
    LIMIT_EXCEEDED: ({ amount }) => amount && `The most you can withdraw at one time is ${amount}.`,
    DAILY_LIMIT_EXCEEDED: ({ amount }) => amount && `That is above your daily limit: you can withdraw up to ${amount} more today.`,
    INSUFFICIENT_FUNDS: ({ amount }) => amount && `There is not enough money in this account: ${amount} is available.`,
    NOT_PAYABLE: ({ notes }) => notes && `This machine pays in ${notes} notes. Choose an amount it can make.`,
    DEPOSIT_LIMIT_REACHED: ({ amount }) => amount && `That note would take you over today's deposit limit. Please take it back; you can deposit up to ${amount} more today.`,
    DEPOSIT_STOPPED: ({ amount }) => amount && `The note reader stopped. You were credited ${amount} for the notes it counted.`,
    NOTE_ACCEPTOR_JAM: ({ amount }) => amount && `A note jammed in the reader. You were credited ${amount} for the notes counted. If a note stayed in the machine, please contact your bank.`,
    NOTE_ACCEPTOR_FULL: ({ amount }) => amount && `This machine cannot take more notes. You were credited ${amount} for the notes counted.`,
    DEPOSIT_REVIEW: ({ amount }) => amount && `Your deposit is being checked by the bank. The notes counted (${amount}) will be credited once it is.`,
    DEPOSIT_UNCONFIRMED: ({ amount }) => amount && `The bank has not confirmed your deposit yet. The notes counted (${amount}) will be credited automatically, never twice.`,
    DEPOSIT_INCOMPLETE: ({ amount }) => amount && `Your deposit could not be finished here. The notes counted (${amount}) will be credited; please check your balance later.`,
    DEPOSIT_CANCELLED_CREDITED: ({ amount }) => amount && `Deposit cancelled. Notes already counted cannot be given back, so ${amount} was credited.`,
    DEPOSIT_CREDITED: ({ amount }) => amount && `Your deposit of ${amount} was credited.`,
    DEPOSIT_CREDITED_TIMEOUT: ({ amount }) => amount && `Your session ended because there was no activity. Your deposit of ${amount} was credited.`,
  },
  fallback: 'Sorry, something went wrong. Please try again.',
};

const fr: NoticeTable = {
  plain: {
    WRONG_PIN: 'Ce NIP est erroné. Veuillez réessayer.',
    CARD_BLOCKED: 'Cette carte est bloquée. Veuillez communiquer avec votre banque.',
    CARD_UNKNOWN: 'Cette carte ne peut pas être utilisée ici.',
    CARD_EXPIRED: 'Cette carte est expirée.',
    BAD_SWIPE: "La carte n'a pas pu être lue. Glissez-la de nouveau, un peu plus lentement.",
    BAD_CREDENTIALS: "Le nom d'utilisateur ou le mot de passe est erroné.",
    LOCKED_OUT: 'Trop de tentatives. Veuillez réessayer plus tard.',
    USERNAME_TAKEN: "Ce nom d'utilisateur est déjà pris. Choisissez-en un autre.",
    WEAK_PASSWORD: "Ce mot de passe est trop faible : au moins 8 caractères, sans votre nom d'utilisateur.",
    REGISTRATION_DISABLED: "On ne peut pas ouvrir de compte à ce guichet.",
    INSUFFICIENT_FUNDS: "Il n'y a pas assez d'argent dans ce compte.",
    LIMIT_EXCEEDED: 'Ce montant dépasse la limite par retrait.',
    DAILY_LIMIT_EXCEEDED: 'Ce montant dépasse votre limite de retrait quotidienne.',
    NOT_DISPENSABLE: 'Ce montant ne peut pas être payé avec les billets disponibles.',
    NOT_PAYABLE: 'Ce guichet ne peut pas payer ce montant avec ses billets. Essayez un autre montant.',
    BAD_AMOUNT: "Ce montant n'est pas valide.",
    SAME_ACCOUNT: 'Choisissez deux comptes différents.',
    UNKNOWN_ACCOUNT: 'Ce compte ne peut pas être utilisé.',
    // Les opérations d'un vrai guichet (kiosk/renderer/strings-flows.ts).
    CASH_RETRACTED: "Vous n'avez pas pris vos billets à temps : le guichet les a repris. Ils ne vous ont pas été facturés.",
    PIN_CHANGED: 'Votre NIP a été changé. Utilisez désormais votre nouveau NIP.',
    PIN_MISMATCH: 'Les deux nouveaux NIP ne sont pas identiques. Veuillez entrer de nouveau votre nouveau NIP.',
    NOT_CARD_SESSION: 'Votre NIP ne peut être changé que si vous vous identifiez avec votre carte.',
    WRONG_PIN_LAST_TRY: 'Ce NIP est erroné. Il vous reste un essai : un autre NIP erroné bloquera votre carte.',
    // Le mode superviseur du technicien (kiosk/renderer/supervisor-strings.ts).
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
    SHORT_DISPENSE: "Seule une partie du montant a pu être payée; seuls les billets reçus ont été débités.",
    DISPENSER_JAM: "Le distributeur de billets est bloqué. Aucun montant n'a été débité.",
    DISPENSE_FAILED: "Les billets n'ont pas pu être distribués. Aucun montant n'a été débité.",
    DISPENSER_UNAVAILABLE: "Le distributeur de billets n'est pas disponible. Aucun montant n'a été débité.",
    WITHDRAWAL_UNAVAILABLE: 'Les retraits ne sont pas offerts à ce guichet pour le moment.',
    TRANSACTION_INCOMPLETE: "La banque n'a pas confirmé votre retrait. Il sera réglé automatiquement; vous ne serez pas débité deux fois.",
    UNCONFIRMED: "La banque n'a pas confirmé votre opération : elle a peut-être été faite. Veuillez consulter votre historique avant de recommencer; elle n'est jamais faite deux fois.",
    HOST_UNAVAILABLE: 'La banque est injoignable pour le moment. Veuillez réessayer plus tard.',
    TIMEOUT: "Votre session a pris fin faute d'activité.",
    CANCELLED: 'Votre session a été annulée.',
    SESSION_EXPIRED: 'Votre session a expiré.',
    NOT_SIGNED_IN: 'Votre session a pris fin.',
    RECEIPT_UNAVAILABLE: "Désolé, le reçu n'a pas pu être imprimé.",
    RECEIPT_PRINTED: 'Veuillez prendre votre reçu.',
    PRINTER_OUT_OF_PAPER: "Désolé, l'imprimante n'a plus de papier.",
    PIN_TOO_SHORT: 'Un NIP compte au moins 4 chiffres.',
    PIN_PAD_UNAVAILABLE: 'Le clavier du NIP ne fonctionne plus. Veuillez réessayer plus tard.',
    DEPOSIT_UNAVAILABLE: 'Les dépôts ne sont pas offerts à ce guichet pour le moment.',
    DEPOSITS_UNAVAILABLE: 'Les dépôts ne sont pas offerts à ce guichet pour le moment.',
    DEPOSIT_LIMIT_EXCEEDED: "Vous avez atteint votre limite de dépôt pour aujourd'hui.",
    DEPOSIT_LIMIT_REACHED: "Ce billet dépasserait votre limite de dépôt d'aujourd'hui. Veuillez le reprendre.",
    DEPOSIT_NOTES_MAX: 'Ce dépôt contient autant de billets que possible. Terminez-le, puis faites un autre dépôt.',
    DEPOSIT_STOPPED: 'Le lecteur de billets s’est arrêté. Les billets comptés vous ont été crédités.',
    DEPOSIT_REVIEW: 'Votre dépôt est vérifié par la banque. Les billets comptés seront crédités ensuite.',
    DEPOSIT_UNCONFIRMED: "La banque n'a pas encore confirmé votre dépôt. Les billets comptés seront crédités automatiquement, jamais deux fois.",
    DEPOSIT_INCOMPLETE: "Votre dépôt n'a pas pu être terminé ici. Les billets comptés seront crédités; consultez votre solde plus tard.",
    DEPOSIT_CANCELLED: "Dépôt annulé. Rien n'a été déposé.",
    DEPOSIT_CANCELLED_CREDITED: 'Dépôt annulé. Les billets déjà comptés ne peuvent pas être rendus : ils ont été crédités.',
    DEPOSIT_NO_NOTES: "Aucun billet n'a été compté : rien n'a été déposé.",
    DEPOSIT_CREDITED: 'Votre dépôt a été crédité.',
    DEPOSIT_CREDITED_TIMEOUT: "Votre session a pris fin faute d'activité. Votre dépôt a été crédité.",
    NOTE_RETURNED: 'Veuillez reprendre votre billet.',
    NOTE_ACCEPTOR_JAM: "Un billet est coincé dans le lecteur. Les billets comptés vous ont été crédités. Si un billet est resté dans le guichet, communiquez avec votre banque.",
    NOTE_ACCEPTOR_FULL: 'Ce guichet ne peut plus prendre de billets. Les billets comptés vous ont été crédités.',
    NOTE_REJECTED_INVALID: "Ce billet n'a pas pu être accepté. Veuillez le reprendre.",
    NOTE_REJECTED_TRANSPORT: "Ce billet n'a pas pu être lu. Reprenez-le et réessayez.",
    NOTE_REJECTED_NOT_TAKEN: 'Ce guichet ne prend pas ce billet. Veuillez le reprendre.',
    NOTE_REJECTED_BARCODE: 'Ce guichet ne prend que des billets de banque. Veuillez reprendre votre ticket.',
  },
  sentences: {
    LIMIT_EXCEEDED: ({ amount }) => amount && `Vous pouvez retirer au plus ${amount} à la fois.`,
    DAILY_LIMIT_EXCEEDED: ({ amount }) => amount && `Ce montant dépasse votre limite quotidienne : vous pouvez encore retirer ${amount} aujourd'hui.`,
    INSUFFICIENT_FUNDS: ({ amount }) => amount && `Il n'y a pas assez d'argent dans ce compte : ${amount} est disponible.`,
    NOT_PAYABLE: ({ notes }) => notes && `Ce guichet paie en billets de ${notes}. Choisissez un montant qu'il peut former.`,
    DEPOSIT_LIMIT_REACHED: ({ amount }) => amount && `Ce billet dépasserait votre limite de dépôt d'aujourd'hui. Veuillez le reprendre; vous pouvez encore déposer ${amount} aujourd'hui.`,
    DEPOSIT_STOPPED: ({ amount }) => amount && `Le lecteur de billets s’est arrêté. ${amount} vous ont été crédités pour les billets comptés.`,
    NOTE_ACCEPTOR_JAM: ({ amount }) => amount && `Un billet est coincé dans le lecteur. ${amount} vous ont été crédités pour les billets comptés. Si un billet est resté dans le guichet, communiquez avec votre banque.`,
    NOTE_ACCEPTOR_FULL: ({ amount }) => amount && `Ce guichet ne peut plus prendre de billets. ${amount} vous ont été crédités pour les billets comptés.`,
    DEPOSIT_REVIEW: ({ amount }) => amount && `Votre dépôt est vérifié par la banque. Les billets comptés (${amount}) seront crédités ensuite.`,
    DEPOSIT_UNCONFIRMED: ({ amount }) => amount && `La banque n'a pas encore confirmé votre dépôt. Les billets comptés (${amount}) seront crédités automatiquement, jamais deux fois.`,
    DEPOSIT_INCOMPLETE: ({ amount }) => amount && `Votre dépôt n'a pas pu être terminé ici. Les billets comptés (${amount}) seront crédités; consultez votre solde plus tard.`,
    DEPOSIT_CANCELLED_CREDITED: ({ amount }) => amount && `Dépôt annulé. Les billets déjà comptés ne peuvent pas être rendus : ${amount} ont été crédités.`,
    DEPOSIT_CREDITED: ({ amount }) => amount && `Votre dépôt de ${amount} a été crédité.`,
    DEPOSIT_CREDITED_TIMEOUT: ({ amount }) => amount && `Votre session a pris fin faute d'activité. Votre dépôt de ${amount} a été crédité.`,
  },
  fallback: 'Désolé, une erreur est survenue. Veuillez réessayer.',
};

const TABLES: Readonly<Record<Language, NoticeTable>> = { en, fr };

/** The notice's spoken sentence (a code with no sentence gets the generic apology, never the code). */
export function spokenNotice(language: Language, code: string, figures: SpokenFigures = {}): string {
  const table = TABLES[language];
  const sentence = Object.hasOwn(table.sentences, code) ? table.sentences[code]!(figures) : undefined;
  if (sentence) return sentence;
  const plain = Object.hasOwn(table.plain, code) ? table.plain[code]! : table.fallback;
  return figures.amount ? `${plain} ${figures.amount}.` : plain;
}

/** The codes with their own spoken sentence (the coverage test compares them with the screen's). */
export function spokenNoticeCodes(language: Language): string[] {
  return Object.keys(TABLES[language].plain).sort();
}
