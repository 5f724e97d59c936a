// A list that renders only the rows in view, so a folder of 100,000 entries scrolls
// like one of ten. Rows have one fixed height.

import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from 'react';

/** Rows drawn beyond each edge, so fast scrolling shows no blank band. */
const OVERSCAN = 8;

export function VirtualList({
  count,
  rowHeight,
  height,
  label,
  row,
  onKeyDown,
  focusIndex,
}: {
  count: number;
  rowHeight: number;
  /** CSS height of the scrolling box. */
  height: string;
  label: string;
  row: (index: number) => ReactNode;
  onKeyDown?: (event: KeyboardEvent<HTMLDivElement>) => void;
  /** A row to keep in view (the one the keyboard is on). */
  focusIndex?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);

  useEffect(() => {
    const element = box.current;
    if (element === null) {
      return;
    }
    const observer = new ResizeObserver(() => setViewport(element.clientHeight));
    observer.observe(element);
    setViewport(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const element = box.current;
    if (element === null || focusIndex === undefined || focusIndex < 0) {
      return;
    }
    const top = focusIndex * rowHeight;
    if (top < element.scrollTop) {
      element.scrollTop = top;
    } else if (top + rowHeight > element.scrollTop + element.clientHeight) {
      element.scrollTop = top + rowHeight - element.clientHeight;
    }
  }, [focusIndex, rowHeight]);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + OVERSCAN);
  const rows: ReactNode[] = [];
  for (let index = first; index < last; index += 1) {
    rows.push(
      <div key={index} style={{ position: 'absolute', top: index * rowHeight, left: 0, right: 0, height: rowHeight }}>
        {row(index)}
      </div>,
    );
  }
  return (
    <div
      ref={box}
      role="grid"
      aria-label={label}
      aria-rowcount={count}
      tabIndex={0}
      onKeyDown={onKeyDown}
      onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
      style={{ height, overflowY: 'auto', position: 'relative', outlineOffset: -2, overscrollBehavior: 'contain' }}
    >
      <div role="rowgroup" style={{ height: count * rowHeight, position: 'relative' }}>
        {rows}
      </div>
    </div>
  );
}
