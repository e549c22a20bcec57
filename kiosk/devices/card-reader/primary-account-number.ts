// The card number rules live in protocol/pan.ts, shared with the bank host; the card reader uses them from there.
export { CARD_PAN_DIGITS_MAX, CARD_PAN_DIGITS_MIN, isLuhnValid, maskPan, PAN_VISIBLE_DIGITS } from '../../../protocol/pan.js';
