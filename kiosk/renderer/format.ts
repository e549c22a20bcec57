// Money, dates, notes, accounts and notices as the customer reads them, in their language's locale.
import type { AccountSummary, Language } from '../preload/api.js';

export const LOCALES: Record<Language, string> = { en: 'en-CA', fr: 'fr-CA' };

export function formatMoney(cents: number, language: Language, currency = 'CAD'): string {
  return new Intl.NumberFormat(LOCALES[language], { style: 'currency', currency }).format(cents / 100);
}

export function formatDateTime(ms: number, language: Language): string {
  return new Intl.DateTimeFormat(LOCALES[language], { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

/** "Savings", or "Savings ••3f9a" when the customer has another account of the same kind. */
export function accountLabel(t: { accountKind(kind: AccountSummary['kind']): string }, account: AccountSummary, accounts: readonly AccountSummary[]): string {
  const kind = t.accountKind(account.kind);
  return accounts.some((a) => a.kind === account.kind && a.accountId !== account.accountId) ? `${kind} ••${account.accountId.slice(-4)}` : kind;
}

/** A note's value as people name it: "$20", "20 $" (cents only when it has them). */
export function formatNote(cents: number, language: Language, currency = 'CAD'): string {
  const whole = cents % 100 === 0;
  return new Intl.NumberFormat(LOCALES[language], { style: 'currency', currency, minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2 }).format(cents / 100);
}

/** "$20 and $50", "$5, $10 and $20"; "20 $ et 50 $". */
export function listNotes(t: { readonly and: string }, notesCents: readonly number[], language: Language, currency = 'CAD'): string {
  const names = [...notesCents].sort((a, b) => a - b).map((cents) => formatNote(cents, language, currency));
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} ${t.and} ${names.at(-1)!}`;
}


/** The words of the notices, from the strings table (i18n.ts). */
export interface NoticeStrings {
  readonly notices: Readonly<Record<string, string>>;
  readonly noticeSentences: Readonly<Record<string, (figures: NoticeFigures) => string | undefined>>;
  readonly noticeFallback: string;
}

/** The figures a notice's sentence may name, already formatted for the customer's language. */
export interface NoticeFigures {
  readonly amount?: string | undefined;
  readonly notes?: string | undefined;
}

/** The notice's words: its own sentence with the figure in it when it has one and the figure is there,
 *  otherwise its plain text (with the amount after it), or a generic apology for a code with no text. */
export function noticeText(strings: NoticeStrings, code: string, figures: NoticeFigures = {}): string {
  const sentence = Object.hasOwn(strings.noticeSentences, code) ? strings.noticeSentences[code]!(figures) : undefined;
  if (sentence) return sentence;
  const plain = Object.hasOwn(strings.notices, code) ? strings.notices[code]! : strings.noticeFallback;
  return figures.amount ? `${plain} (${figures.amount})` : plain;
}

