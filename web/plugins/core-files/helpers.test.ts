import { describe, expect, it } from 'vitest';

import { baseName, join, parent } from './client';
import { ago, bytes, modeBits, modeOctal, nameProblem } from './format';
import { itemsIn } from './tree';

describe('paths', () => {
  it('joins without doubling slashes or leaving the root', () => {
    expect(join('/', 'a')).toBe('/a');
    expect(join('/plugins/', 'x.yml')).toBe('/plugins/x.yml');
    expect(parent('/plugins/x.yml')).toBe('/plugins');
    expect(parent('/x')).toBe('/');
    expect(parent('/')).toBe('/');
    expect(baseName('/plugins/x.yml')).toBe('x.yml');
  });
});

describe('words', () => {
  it('says sizes in binary units', () => {
    expect(bytes(0)).toBe('0 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(50 * 1024 * 1024)).toBe('50 MiB');
  });

  it('says how long ago', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(ago(new Date('2026-12-01T11:59:50Z'), now)).toBe('just now');
    expect(ago(new Date('2026-12-01T11:57:00Z'), now)).toBe('3 minutes ago');
    expect(ago(new Date('2026-11-30T11:00:00Z'), now)).toBe('yesterday');
  });

  it('turns permission bits into ticks and back', () => {
    expect(modeBits('754')).toEqual([true, true, true, true, false, true, true, false, false]);
    expect(modeOctal(modeBits('640'))).toBe('640');
    expect(modeOctal(modeBits('7'))).toBe('007');
  });

  it('refuses names the node would refuse', () => {
    expect(nameProblem('  ')).not.toBeNull();
    expect(nameProblem('..')).not.toBeNull();
    expect(nameProblem('world')).toBeNull();
  });
});

describe('archive folders', () => {
  it('shows what is directly inside a folder, folders first, made up from deeper paths', () => {
    const entries = [
      { name: 'readme.txt', size: 5, directory: false, symlink: false },
      { name: 'docs/more/deep.txt', size: 3, directory: false, symlink: false },
      { name: 'docs/guide.txt', size: 4, directory: false, symlink: false },
    ];
    expect(itemsIn(entries, '').map((item) => [item.name, item.directory])).toEqual([
      ['docs', true],
      ['readme.txt', false],
    ]);
    expect(itemsIn(entries, 'docs').map((item) => item.path)).toEqual(['docs/more', 'docs/guide.txt']);
    expect(itemsIn(entries, 'docs/more')).toEqual([{ name: 'deep.txt', path: 'docs/more/deep.txt', directory: false, size: 3 }]);
  });
});
