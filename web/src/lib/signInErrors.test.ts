import { describe, expect, it } from 'vitest';

import { errorFrom } from './api';
import { safeRedirect, signInError } from './signInErrors';

describe('sign-in errors', () => {
  it('explain every code core-auth redirects with', () => {
    for (const code of [
      'credentials',
      'oauth-state',
      'oauth-denied',
      'oauth-provider',
      'oauth-not-linked',
      'oauth-no-account',
      'oauth-linked-elsewhere',
    ]) {
      const message = signInError(code);
      expect(message).not.toBeNull();
      expect(message).not.toBe(signInError('something-new'));
    }
    expect(signInError(null)).toBeNull();
  });

  it('keep redirects on the panel', () => {
    expect(safeRedirect('/servers/abc')).toBe('/servers/abc');
    for (const hostile of ['//evil.example', 'https://evil.example', '/\\evil', '/a\r\nb']) {
      expect(safeRedirect(hostile)).toBe('/');
    }
    expect(safeRedirect(null)).toBe('/');
  });
});

describe('API errors', () => {
  it('carry the panel message and field', () => {
    const error = errorFrom(400, { error: { code: 'name', message: 'a name is needed', field: 'name' } });
    expect([error.status, error.code, error.message, error.field]).toEqual([
      400,
      'name',
      'a name is needed',
      'name',
    ]);
  });

  it('say something useful when the body is not the panel error shape', () => {
    expect(errorFrom(502, 'Bad Gateway').message).toMatch(/try again/);
    expect(errorFrom(404, null).code).toBe('http_404');
  });
});
