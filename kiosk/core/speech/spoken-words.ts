// The words of speech mode, in English and French: what each screen says and the names of its choices.
// Written for the ear: amounts in words ("20 dollars and 50 cents", never "$20.50", which espeak-ng reads
// as "dollar twenty point five zero"), one idea per sentence, the keys named as they are on the PIN pad.
// No secret is ever passed in: PIN digits only as a count, a card only by its last four digits.
import type { Language } from '../ui-contract.js';

const en = {
  bank: 'Northbank',
  keyHelp: 'Press the number of your choice, then Enter. 0 repeats, 9 blanks or shows the screen, and Cancel goes back. F1 and F2, the first two keys beside the screen, make the voice quieter or louder.',
  choice: (n: number, label: string) => `For ${label}, press ${n}.`,
  chosen: (label: string) => `${label}. Press Enter to confirm.`,
  noChoice: (n: number) => `There is no choice ${n}.`,
  chooseFirst: 'Press the number of a choice first.',
  cleared: 'Choice cleared.',
  blanked: 'The screen is now blank for your privacy. Press 9 to show it again.',
  shown: 'The screen is showing again.',
  volume: (step: number, steps: number) => `Volume ${step} of ${steps}.`,
  loudest: 'This is the loudest.',
  quietest: 'This is the quietest.',
  speechOn: 'Speech mode is on.',
  working: 'Please wait.',
  idleWarning: 'Are you still there? Your session will end soon. Press any key for more time, or Cancel to end.',
  outOfService: 'This machine is temporarily out of service. It will be back in a few minutes.',
  supervisorMode: "Supervisor mode, for the bank's technician. Please use the touch screen.",
  welcome: 'Welcome to Northbank. Swipe your card to begin, or choose a language.',
  languageName: { en: 'English', fr: 'French' } as Record<Language, string>,
  identify: 'How would you like to sign in? Signing in with a username needs the screen, so with speech, use your card.',
  useCard: 'your card',
  swipe: 'Swipe your card through the reader beside the screen, stripe facing down.',
  pin: 'Enter your PIN on the keypad, then press Enter. Correct removes the last digit, Clear starts again, and Cancel ends.',
  pinDigits: (n: number) => (n === 0 ? 'No digits entered.' : n === 1 ? '1 digit entered.' : `${n} digits entered.`),
  hello: (name: string) => `Hello, ${name}.`,
  menu: 'What would you like to do?',
  menuChoices: { withdraw: 'cash', deposit: 'a deposit', balance: 'your balance', history: 'your history', transfer: 'a transfer', 'pin-change': 'a new PIN' },
  finish: 'finishing',
  backToMenu: 'the menu',
  balance: 'Your balance.',
  accountBalance: (account: string, balance: string, available: string) => `${account}: ${balance}, of which ${available} is available.`,
  accountKind: { chequing: 'Chequing', savings: 'Savings' },
  accountEnding: (kind: string, ending: string) => `${kind} ending in ${ending}`,
  withdraw: (account: string, available: string) => `Withdraw cash from ${account}. ${available} is available.`,
  withdrawRemaining: (amount: string) => `You can withdraw up to ${amount} today.`,
  noFastCash: 'No preset amount can be paid right now.',
  otherAmount: 'another amount',
  fromAccount: (account: string) => `cash from ${account}`,
  confirmWithdraw: (amount: string, account: string) => `Withdraw ${amount} from ${account}? Press Enter to confirm, or Cancel.`,
  typeAmount: 'Type the amount in whole dollars, then press Enter. Correct removes the last digit, and Cancel goes back.',
  typed: (amount: string) => `${amount}.`,
  nothingTyped: 'Nothing typed.',
  amountTooLarge: 'That is as many digits as an amount may have.',
  deposit: 'Deposit. Into which account?',
  depositRemaining: (amount: string) => `You can deposit up to ${amount} more today.`,
  depositInto: (account: string) => `a deposit into ${account}`,
  depositInsert: (notes: string) => `Insert your notes one at a time: ${notes} notes.`,
  depositCounted: (count: number, total: string) => (count === 0 ? 'No notes counted yet.' : `${count === 1 ? '1 note' : `${count} notes`} counted, ${total} in all.`),
  depositCounting: 'Counting your note.',
  depositDone: 'finishing the deposit',
  depositCancel: 'cancelling the deposit',
  history: (n: number) => (n === 0 ? 'History. No transactions match.' : `History. ${n === 1 ? '1 transaction' : `${n} transactions`} on this page, newest first.`),
  historyEntry: (date: string, kind: string, amount: string, balance: string) => `${date}: ${kind}, ${amount}. Balance ${balance}.`,
  activityEntry: (date: string, outcome: string, amount: string) => `${date}: ${outcome}${amount ? `, ${amount}` : ''}.`,
  postingKind: { deposit: 'deposit', withdrawal: 'withdrawal', 'transfer-in': 'transfer in', 'transfer-out': 'transfer out' },
  outcomes: { ok: 'done', failed: 'failed', refused: 'refused' },
  nextPage: 'the next page',
  transferNeedsTwo: 'You need two accounts to transfer money.',
  transferFrom: 'Transfer between your accounts. From which account?',
  transferTo: (from: string) => `Transfer from ${from}. To which account?`,
  confirmTransfer: (amount: string, from: string, to: string) => `Transfer ${amount} from ${from} to ${to}? Press Enter to confirm, or Cancel.`,
  takeCash: (amount: string) => `Please take your cash. ${amount} has been dispensed.`,
  // A sentence of its own after takeCash (which the receipt screen says too), so the sentences already
  // said stay as they were.
  takeCashWithin: (seconds: string) => `It is in the slot below the screen. You have ${seconds}; after that it goes back into the machine, and you are not charged for it.`,
  takeCashReminder: (seconds: string) => `Please take your cash: ${seconds} left.`,
  seconds: (n: number) => (n === 1 ? '1 second' : `${n} seconds`),
  anotherQuestion: 'Would you like another transaction?',
  anotherYes: 'another transaction',
  anotherNo: 'no, finish',
  pinChangeSteps: { old: 'To change your PIN, enter your current PIN, then press Enter.', new: 'Enter your new PIN, then press Enter.', confirm: 'Enter your new PIN again, then press Enter.' },
  depositResult: (amount: string, notes: number, availableNow: string) => `${amount} deposited, ${notes === 1 ? '1 note' : `${notes} notes`}. Available now: ${availableNow}.`,
  depositHeld: (amount: string) => `${amount} is on hold.`,
  newBalance: (amount: string) => `New balance: ${amount}.`,
  transferDone: (amount: string, balance: string) => `${amount} transferred. Balance left: ${balance}.`,
  receiptQuestion: 'Would you like a receipt?',
  receiptYes: 'a receipt',
  receiptNo: 'no receipt',
  receiptUnavailable: 'Receipts are not available right now.',
  done: 'done',
  goodbye: 'Thank you. Goodbye! Your session has ended. Remember to take your card and your headset.',
  money: (dollars: number, cents: number) =>
    `${dollars} ${dollars === 1 ? 'dollar' : 'dollars'}${cents > 0 ? ` and ${cents} ${cents === 1 ? 'cent' : 'cents'}` : ''}`,
  minus: 'minus',
  noteList: (values: string[]) => (values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} and ${values.at(-1)!}`) + ' dollar',
  locale: 'en-CA',
};

export type SpokenWords = typeof en;

const fr: SpokenWords = {
  bank: 'Northbank',
  keyHelp: 'Appuyez sur le numéro de votre choix, puis sur Entrée. 0 répète, 9 éteint ou rallume l’écran, et Annuler revient en arrière. F1 et F2, les deux premières touches à côté de l’écran, baissent ou montent la voix.',
  choice: (n, label) => `Pour ${label}, appuyez sur ${n}.`,
  chosen: (label) => `${label}. Appuyez sur Entrée pour confirmer.`,
  noChoice: (n) => `Il n'y a pas de choix ${n}.`,
  chooseFirst: "Appuyez d'abord sur le numéro d'un choix.",
  cleared: 'Choix effacé.',
  blanked: "L'écran est maintenant éteint pour votre confidentialité. Appuyez sur 9 pour le rallumer.",
  shown: "L'écran est rallumé.",
  volume: (step, steps) => `Volume ${step} sur ${steps}.`,
  loudest: "C'est le plus fort.",
  quietest: "C'est le plus faible.",
  speechOn: 'Le mode vocal est activé.',
  working: 'Veuillez patienter.',
  idleWarning: 'Êtes-vous toujours là? Votre session prendra bientôt fin. Appuyez sur une touche pour avoir plus de temps, ou sur Annuler pour terminer.',
  outOfService: 'Ce guichet est temporairement hors service. Il sera de retour dans quelques minutes.',
  supervisorMode: 'Mode superviseur, réservé au technicien de la banque. Veuillez utiliser l’écran tactile.',
  welcome: 'Bienvenue chez Northbank. Glissez votre carte pour commencer, ou choisissez une langue.',
  languageName: { en: 'l’anglais', fr: 'le français' },
  identify: "Comment voulez-vous vous identifier? La connexion par nom d'utilisateur demande l'écran : avec le mode vocal, utilisez votre carte.",
  useCard: 'votre carte',
  swipe: "Glissez votre carte dans le lecteur à côté de l'écran, bande vers le bas.",
  pin: 'Entrez votre NIP sur le clavier, puis appuyez sur Entrée. Corriger efface le dernier chiffre, Effacer recommence, et Annuler termine.',
  pinDigits: (n) => (n === 0 ? 'Aucun chiffre entré.' : n === 1 ? '1 chiffre entré.' : `${n} chiffres entrés.`),
  hello: (name) => `Bonjour, ${name}.`,
  menu: 'Que voulez-vous faire?',
  menuChoices: { withdraw: 'un retrait', deposit: 'un dépôt', balance: 'votre solde', history: 'votre historique', transfer: 'un virement', 'pin-change': 'un nouveau NIP' },
  finish: 'terminer',
  backToMenu: 'le menu',
  balance: 'Votre solde.',
  accountBalance: (account, balance, available) => `${account} : ${balance}, dont ${available} disponibles.`,
  accountKind: { chequing: 'Compte chèques', savings: 'Compte épargne' },
  accountEnding: (kind, ending) => `${kind} se terminant par ${ending}`,
  withdraw: (account, available) => `Retrait du ${account}. ${available} disponibles.`,
  withdrawRemaining: (amount) => `Vous pouvez retirer jusqu'à ${amount} aujourd'hui.`,
  noFastCash: 'Aucun montant prédéfini ne peut être payé pour le moment.',
  otherAmount: 'un autre montant',
  fromAccount: (account) => `retirer du ${account}`,
  confirmWithdraw: (amount, account) => `Retirer ${amount} du ${account}? Appuyez sur Entrée pour confirmer, ou sur Annuler.`,
  typeAmount: 'Tapez le montant en dollars, puis appuyez sur Entrée. Corriger efface le dernier chiffre, et Annuler revient en arrière.',
  typed: (amount) => `${amount}.`,
  nothingTyped: 'Rien de tapé.',
  amountTooLarge: "Un montant n'a pas plus de chiffres.",
  deposit: 'Dépôt. Dans quel compte?',
  depositRemaining: (amount) => `Vous pouvez encore déposer ${amount} aujourd'hui.`,
  depositInto: (account) => `déposer dans le ${account}`,
  depositInsert: (notes) => `Insérez vos billets un à la fois : billets de ${notes}.`,
  depositCounted: (count, total) => (count === 0 ? 'Aucun billet compté pour le moment.' : `${count === 1 ? '1 billet compté' : `${count} billets comptés`}, ${total} en tout.`),
  depositCounting: 'Nous comptons votre billet.',
  depositDone: 'terminer le dépôt',
  depositCancel: 'annuler le dépôt',
  history: (n) => (n === 0 ? 'Historique. Aucune opération ne correspond.' : `Historique. ${n === 1 ? '1 opération' : `${n} opérations`} sur cette page, la plus récente d'abord.`),
  historyEntry: (date, kind, amount, balance) => `${date} : ${kind}, ${amount}. Solde ${balance}.`,
  activityEntry: (date, outcome, amount) => `${date} : ${outcome}${amount ? `, ${amount}` : ''}.`,
  postingKind: { deposit: 'dépôt', withdrawal: 'retrait', 'transfer-in': 'virement reçu', 'transfer-out': 'virement envoyé' },
  outcomes: { ok: 'fait', failed: 'échec', refused: 'refusé' },
  nextPage: 'la page suivante',
  transferNeedsTwo: "Il vous faut deux comptes pour faire un virement.",
  transferFrom: 'Virement entre vos comptes. De quel compte?',
  transferTo: (from) => `Virement du ${from}. Vers quel compte?`,
  confirmTransfer: (amount, from, to) => `Virer ${amount} du ${from} au ${to}? Appuyez sur Entrée pour confirmer, ou sur Annuler.`,
  takeCash: (amount) => `Veuillez prendre vos billets. ${amount} ont été distribués.`,
  takeCashWithin: (seconds) => `Ils sont dans la fente sous l'écran. Vous avez ${seconds} pour les prendre : après ce délai, ils retournent dans le guichet et ne vous sont pas facturés.`,
  takeCashReminder: (seconds) => `Veuillez prendre vos billets : il reste ${seconds}.`,
  seconds: (n) => (n <= 1 ? `${n} seconde` : `${n} secondes`),
  anotherQuestion: 'Voulez-vous faire une autre opération?',
  anotherYes: 'une autre opération',
  anotherNo: 'non, terminer',
  pinChangeSteps: { old: 'Pour changer votre NIP, entrez votre NIP actuel, puis appuyez sur Entrée.', new: 'Entrez votre nouveau NIP, puis appuyez sur Entrée.', confirm: 'Entrez de nouveau votre nouveau NIP, puis appuyez sur Entrée.' },
  depositResult: (amount, notes, availableNow) => `${amount} déposés, ${notes === 1 ? '1 billet' : `${notes} billets`}. Disponible maintenant : ${availableNow}.`,
  depositHeld: (amount) => `${amount} sont retenus.`,
  newBalance: (amount) => `Nouveau solde : ${amount}.`,
  transferDone: (amount, balance) => `${amount} virés. Solde restant : ${balance}.`,
  receiptQuestion: 'Voulez-vous un reçu?',
  receiptYes: 'un reçu',
  receiptNo: 'aucun reçu',
  receiptUnavailable: 'Les reçus ne sont pas offerts pour le moment.',
  done: 'terminer',
  goodbye: "Merci. Au revoir! Votre session est terminée. N'oubliez pas votre carte et votre casque.",
  money: (dollars, cents) => `${dollars} ${dollars <= 1 ? 'dollar' : 'dollars'}${cents > 0 ? ` et ${cents} ${cents === 1 ? 'cent' : 'cents'}` : ''}`,
  minus: 'moins',
  noteList: (values) => (values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} et ${values.at(-1)!}`) + ' dollars',
  locale: 'fr-CA',
};

const WORDS: Readonly<Record<Language, SpokenWords>> = { en, fr };

export function spokenWords(language: Language): SpokenWords {
  return WORDS[language];
}

/** An amount as said aloud: "1234 dollars and 50 cents" (espeak-ng says the number in words). */
export function spokenMoney(cents: number, language: Language): string {
  const words = WORDS[language];
  const whole = Math.abs(cents);
  const said = words.money(Math.floor(whole / 100), whole % 100);
  return cents < 0 ? `${words.minus} ${said}` : said;
}

/** Notes by value: "20 and 50 dollar" (in "20 and 50 dollar notes"), "20 et 50 dollars". */
export function spokenNotes(notesCents: readonly number[], language: Language): string {
  const values = [...notesCents].sort((a, b) => a - b).map((cents) => (cents % 100 === 0 ? String(cents / 100) : (cents / 100).toFixed(2)));
  return WORDS[language].noteList(values);
}

/** A day as said aloud: "December 5, 2026", "5 décembre 2026" (the kiosk's time zone). */
export function spokenDate(ms: number, language: Language): string {
  return new Intl.DateTimeFormat(WORDS[language].locale, { dateStyle: 'long' }).format(new Date(ms));
}
