import { useEffect, useRef } from 'preact/hooks';

/** The screen's heading. It takes focus when the screen (or `step`) changes, so a screen reader reads
 *  the new screen and keyboard users start from its top. */
export function ScreenTitle({ text, step = '' }: { text: string; step?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, [text, step]);
  return (
    <h1 ref={ref} tabIndex={-1} class="screen-title">
      {text}
    </h1>
  );
}
