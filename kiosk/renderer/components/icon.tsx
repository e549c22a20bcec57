/** Small line icons drawn inline (no files, no font: the CSP allows neither inline styles nor remote
 *  fonts, and the renderer stays small). Each is one or two paths on a 24×24 grid, stroked in the text's
 *  colour; decorative, so hidden from screen readers (the button or text beside it says what it is). */
const PATHS = {
  bank: 'M3 9.5 12 4l9 5.5M4.5 10v8M9.5 10v8M14.5 10v8M19.5 10v8M3 20h18',
  lock: 'M6.5 11h11v9h-11zM8.5 11V8a3.5 3.5 0 0 1 7 0v3',
  card: 'M3 6h18v12H3zM3 10h18M6.5 14.5h4',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4.5 20.5a7.5 7.5 0 0 1 15 0',
  plus: 'M12 5v14M5 12h14',
  cash: 'M2.5 7h19v10h-19zM12 14.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5zM5.5 10v4M18.5 10v4',
  deposit: 'M12 3v10M8 9.5l4 4 4-4M4 15v5h16v-5',
  balance: 'M4 20V10M10 20V4M16 20v-7M21 20H3',
  history: 'M12 21a9 9 0 1 0-9-9M3 5.5V12h6.5M12 7.5V12l3 2',
  transfer: 'M4 8h15M15.5 4.5 19 8l-3.5 3.5M20 16H5M8.5 12.5 5 16l3.5 3.5',
  exit: 'M14 4h5v16h-5M10 8l-4 4 4 4M6 12h10',
  back: 'M10 6l-6 6 6 6M4 12h16',
  next: 'M14 6l6 6-6 6M20 12H4',
  left: 'M15 5l-7 7 7 7',
  right: 'M9 5l7 7-7 7',
  globe: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM3 12h18M12 3c2.5 2.5 3.5 5.5 3.5 9s-1 6.5-3.5 9c-2.5-2.5-3.5-5.5-3.5-9s1-6.5 3.5-9z',
  close: 'M6 6l12 12M18 6 6 18',
  filter: 'M4 6h16M7 12h10M10 18h4',
  receipt: 'M6 3h12v18l-3-2-3 2-3-2-3 2zM9 8h6M9 12h6',
  check: 'M4.5 12.5l5 5 10-11',
  alert: 'M12 3.5 22 20H2zM12 10v4.5M12 17.2v.1',
  eye: 'M2 12s3.6-6.5 10-6.5S22 12 22 12s-3.6 6.5-10 6.5S2 12 2 12zM12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z',
  backspace: 'M8 5h12v14H8l-6-7zM11 9l6 6M17 9l-6 6',
  shift: 'M12 4l8 8h-4.5v7h-7v-7H4z',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, class: className = 'icon' }: { name: IconName; class?: string }) {
  return (
    <svg class={className} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}
