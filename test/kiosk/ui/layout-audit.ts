// What a customer would find wrong with a screen as drawn, measured from the element boxes in the page:
// anything outside the screen, two controls or texts on top of each other, text cut off or spilling out
// of its box, anything that scrolls, text under 16 px, touch targets under 44×44 px; and axe-core's
// findings (every rule, every impact). The UI tests assert all of it is empty; the tour prints it.
import type { Page } from 'playwright-core';

/** Smallest touch target we accept: 44 CSS px is WCAG 2.5.5's; ours are meant to be 48 or more. */
export const TOUCH_TARGET_PX_MIN = 44;
/** Smallest content text: read at arm's length on a 7-inch panel. */
export const TEXT_PX_MIN = 16;

export interface LayoutAudit {
  /** Visible elements whose box is not wholly on the screen. */
  readonly outside: string[];
  /** Pairs of controls, texts or pictures (neither inside the other) whose boxes overlap. */
  readonly overlaps: string[];
  /** Elements whose content is larger than their box (cut off, scrolled or spilling out). */
  readonly clipped: string[];
  /** The document itself scrolls. */
  readonly documentScrolls: boolean;
  readonly smallText: string[];
  readonly smallTargets: string[];
  readonly axe: string[];
}

/** Runs in the page (as source text: the test program has no DOM types, and the page's CSP forbids
 *  compiling a function there). Elements inside an `inert` subtree sit behind a modal dialog and count
 *  for nothing but being on screen. */
const MEASURE = `(() => {
  const vw = innerWidth, vh = innerHeight, slack = 0.5;
  const app = document.getElementById('app');
  const shown = (el) => {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || Number(style.opacity) === 0) return false;
    if (el.closest('.sr-only')) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const label = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    return el.tagName.toLowerCase() + cls + (text ? ' "' + text + '"' : '');
  };
  const box = (el) => el.getBoundingClientRect();
  // HTML elements and whole pictures; the shapes inside an <svg> are the picture's business.
  const elements = [...app.querySelectorAll('*')].filter((el) => (!(el instanceof SVGElement) || el instanceof SVGSVGElement) && shown(el));
  const interactive = (el) => el.matches('button, input, select, textarea, a[href], [role="button"]');
  const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
  const live = (el) => !el.closest('[inert]');

  const outside = elements.filter((el) => { const b = box(el); return b.left < -slack || b.top < -slack || b.right > vw + slack || b.bottom > vh + slack; }).map((el) => label(el) + ' at ' + [box(el).left, box(el).top, box(el).right, box(el).bottom].map(Math.round).join(','));

  const items = elements.filter((el) => live(el) && (interactive(el) || ((ownText(el) || el instanceof SVGSVGElement) && !el.parentElement.closest('button, [role="button"]'))));
  const overlaps = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i], b = items[j];
      if (a.contains(b) || b.contains(a)) continue;
      const p = box(a), q = box(b);
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 1 && h > 1) overlaps.push(label(a) + ' × ' + label(b));
    }
  }

  const clipped = elements
    .filter((el) => !(el instanceof SVGElement) && getComputedStyle(el).display !== 'inline')
    .filter((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
    .map((el) => label(el) + ' ' + el.scrollWidth + 'x' + el.scrollHeight + ' in ' + el.clientWidth + 'x' + el.clientHeight);

  const smallText = elements
    .filter((el) => ownText(el) || el.matches('input'))
    .filter((el) => parseFloat(getComputedStyle(el).fontSize) < ${TEXT_PX_MIN} - 0.01)
    .map((el) => label(el) + ' ' + getComputedStyle(el).fontSize);
  const smallTargets = elements
    .filter((el) => interactive(el) && live(el))
    .filter((el) => box(el).width < ${TOUCH_TARGET_PX_MIN} - 0.01 || box(el).height < ${TOUCH_TARGET_PX_MIN} - 0.01)
    .map((el) => label(el) + ' ' + Math.round(box(el).width) + 'x' + Math.round(box(el).height));
  const root = document.scrollingElement || document.documentElement;
  return { outside, overlaps, clipped, documentScrolls: root.scrollHeight > vh + 1 || root.scrollWidth > vw + 1, smallText, smallTargets };
})()`;

const AXE = `axe.run(document, { resultTypes: ['violations'] }).then((result) =>
  result.violations.flatMap((v) => v.nodes.map((n) => v.id + ' (' + v.impact + '): ' + JSON.stringify(n.target))))`;

/** Measures the page as it is now; `axeSource` is axe-core's script, loaded into the page once. */
export async function auditLayout(page: Page, axeSource: () => Promise<string>): Promise<LayoutAudit> {
  // Evaluated rather than added as a script tag: the page's CSP (rightly) refuses inline scripts, and the
  // test must not loosen it.
  if (!(await page.evaluate(`'axe' in globalThis`))) await page.evaluate(await axeSource());
  const layout = (await page.evaluate(MEASURE)) as Omit<LayoutAudit, 'axe'>;
  const axe = (await page.evaluate(AXE)) as string[];
  return { ...layout, axe };
}

/** The numbers the report prints for one screen. */
export function auditCounts(audit: LayoutAudit) {
  return {
    outside: audit.outside.length,
    overlaps: audit.overlaps.length,
    clipped: audit.clipped.length + (audit.documentScrolls ? 1 : 0),
    smallText: audit.smallText.length,
    smallTargets: audit.smallTargets.length,
    axe: audit.axe.length,
  };
}
