import { describe, expect, it } from 'vitest';

import { fieldFor, isRequired, splitRules } from './rules';

describe('splitRules', () => {
  it('reads names and arguments', () => {
    expect(splitRules('required|string|max:20')).toEqual([
      { name: 'required', argument: '' },
      { name: 'string', argument: '' },
      { name: 'max', argument: '20' },
    ]);
  });

  it('keeps bars inside a regex', () => {
    expect(splitRules('required|regex:/^(yes|no)$/|max:3')).toEqual([
      { name: 'required', argument: '' },
      { name: 'regex', argument: '/^(yes|no)$/' },
      { name: 'max', argument: '3' },
    ]);
    expect(splitRules('regex:/^(a|b)$/')).toEqual([{ name: 'regex', argument: '/^(a|b)$/' }]);
  });
});

describe('fieldFor', () => {
  it('picks the control the rules want', () => {
    expect(fieldFor('required|boolean')).toEqual({ kind: 'switch' });
    expect(fieldFor('required|string|in:survival,creative')).toEqual({
      kind: 'select',
      options: ['survival', 'creative'],
    });
    expect(fieldFor('required|integer|between:1,100')).toEqual({
      kind: 'number',
      integer: true,
      min: 1,
      max: 100,
    });
    expect(fieldFor('nullable|numeric|min:0.5')).toEqual({ kind: 'number', integer: false, min: 0.5 });
    expect(fieldFor('required|string|max:20')).toEqual({ kind: 'text', maxLength: 20 });
    expect(fieldFor('')).toEqual({ kind: 'text' });
  });

  it('knows a required value', () => {
    expect(isRequired('required|string')).toBe(true);
    expect(isRequired('nullable|string')).toBe(false);
  });
});
