import { describe, expect, it } from 'vitest';

import { ApiError, fieldError, unplacedError } from './api';

describe('form errors', () => {
  const about = (field?: string) => new ApiError(400, 'bad_request', 'GREETING is too long', field);

  it('shows an error at the input it names', () => {
    expect(fieldError(about('variables.GREETING'), 'variables.GREETING')).toBe('GREETING is too long');
    expect(fieldError(about('name'), 'variables.GREETING')).toBeUndefined();
    expect(fieldError(new Error('offline'), 'name')).toBeUndefined();
  });

  it('shows above the buttons what no input shows', () => {
    expect(unplacedError(null, ['name'])).toBe(false);
    expect(unplacedError(about('name'), ['name'])).toBe(false);
    expect(unplacedError(about('variables.GREETING'), ['name', 'variables.'])).toBe(false);
    expect(unplacedError(about('scheme'), ['name'])).toBe(true);
    expect(unplacedError(about(), ['name'])).toBe(true);
    expect(unplacedError(new Error('offline'), ['name'])).toBe(true);
  });
});
