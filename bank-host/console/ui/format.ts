// How the console writes money, times and names for people. Money is integer cents from the host.
import type { AlertKind, KioskState } from '../../fleet/views.js';

const money = new Intl.NumberFormat('en-CA', { style: 'currency', currency: 'CAD', currencyDisplay: 'narrowSymbol' });
const count = new Intl.NumberFormat('en-CA');

export const formatCents = (cents: number): string => money.format(cents / 100);
export const formatCount = (n: number): string => count.format(n);
export const formatNote = (cents: number): string => (cents % 100 === 0 ? `$${cents / 100}` : formatCents(cents));

export function formatAgo(ms: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5_400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3_600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

export const formatTime = (ms: number): string => new Date(ms).toLocaleString('en-CA', { dateStyle: 'short', timeStyle: 'medium', hour12: false });
export const formatHour = (ms: number): string => new Date(ms).toLocaleTimeString('en-CA', { hour: '2-digit', minute: '2-digit', hour12: false });

export const STATE_LABEL: Readonly<Record<KioskState, string>> = {
  'in-service': 'In service',
  'out-of-service': 'Out of service',
  offline: 'Offline',
  'never-reported': 'Never reported',
};

export const ALERT_LABEL: Readonly<Record<AlertKind, string>> = {
  offline: 'Offline',
  'out-of-service': 'Out of service',
  'device-fault': 'Device fault',
  'low-cash': 'Low cash',
  'cashbox-nearly-full': 'Cashbox nearly full',
  'paper-low': 'Paper low',
  'paper-out': 'Paper out',
  'stale-holds': 'Stale withdrawal holds',
  'open-deposits': 'Open deposits',
  'money-exceptions': 'Money exceptions',
  unbalanced: 'Unbalanced',
};
