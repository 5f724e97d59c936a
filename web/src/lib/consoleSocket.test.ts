import { describe, expect, it } from 'vitest';

import { LineBatcher, backoff, parseFrame } from './consoleSocket';

describe('parseFrame', () => {
  it('reads wings frames', () => {
    expect(parseFrame('{"event":"console output","args":["hello"]}')).toEqual({
      event: 'console output',
      args: ['hello'],
    });
    expect(parseFrame('{"event":"auth success"}')).toEqual({ event: 'auth success', args: [] });
  });

  it('turns arguments that are not strings into JSON', () => {
    expect(parseFrame('{"event":"stats","args":[{"cpu_absolute":1}]}')?.args).toEqual([
      '{"cpu_absolute":1}',
    ]);
  });

  it('refuses what is not a frame', () => {
    expect(parseFrame('not json')).toBeNull();
    expect(parseFrame('[1,2]')).toBeNull();
    expect(parseFrame('{"args":["x"]}')).toBeNull();
    expect(parseFrame('null')).toBeNull();
  });
});

describe('backoff', () => {
  it('doubles from a second and stops at thirty', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(backoff)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe('LineBatcher', () => {
  function batcher(cap = 5000) {
    const writes: string[] = [];
    const frames: (() => void)[] = [];
    const lines = new LineBatcher(
      (text) => writes.push(text),
      cap,
      (run) => frames.push(run),
    );
    const nextFrame = () => {
      const run = frames.shift();
      run?.();
    };
    return { lines, writes, frames, nextFrame };
  }

  it('writes everything that arrived in a frame at once, with CRLF endings', () => {
    const { lines, writes, frames, nextFrame } = batcher();
    lines.push(['one']);
    lines.push(['two\nthree', 'four\r\n']);
    expect(frames).toHaveLength(1);
    expect(writes).toEqual([]);
    nextFrame();
    expect(writes).toEqual(['one\r\ntwo\r\nthree\r\nfour\r\n']);
  });

  it('keeps the newest lines and says how many it skipped when a flood outruns the screen', () => {
    const { lines, writes, nextFrame } = batcher(3);
    lines.push(['1', '2', '3', '4', '5']);
    nextFrame();
    expect(writes[0]).toContain('[2 lines skipped to keep up]');
    expect(writes[0]).toMatch(/3\r\n4\r\n5\r\n$/);
    expect(writes[0]).not.toContain('2\r\n');
    // The count starts over after it was said.
    lines.push(['6']);
    nextFrame();
    expect(writes[1]).toBe('6\r\n');
    expect([lines.written, lines.skipped]).toEqual([4, 2]);
  });
});
