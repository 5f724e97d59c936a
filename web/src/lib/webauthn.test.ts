import { describe, expect, it } from 'vitest';

import { creationOptions, fromBase64Url, requestOptions, toBase64Url } from './webauthn';

describe('WebAuthn encoding', () => {
  it('round-trips base64url without padding', () => {
    for (const length of [0, 1, 2, 3, 31, 32, 33]) {
      const bytes = new Uint8Array(length).map((_, index) => (index * 37 + 250) % 256);
      const text = toBase64Url(bytes);
      expect(text).not.toMatch(/[+/=]/);
      expect(new Uint8Array(fromBase64Url(text))).toEqual(bytes);
    }
  });

  it('turns the ids and challenges of the panel options into bytes', () => {
    const challenge = toBase64Url(new Uint8Array([1, 2, 3]));
    const created = creationOptions({
      publicKey: {
        challenge,
        rp: { id: 'panel.example', name: 'Hatchery' },
        user: { id: toBase64Url(new Uint8Array([9])), name: 'ada', displayName: 'ada' },
        excludeCredentials: [{ type: 'public-key', id: toBase64Url(new Uint8Array([7, 7])) }],
      },
    }).publicKey;
    expect(new Uint8Array(created?.challenge as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(created?.user.id as ArrayBuffer)).toEqual(new Uint8Array([9]));
    expect(new Uint8Array(created?.excludeCredentials?.[0]?.id as ArrayBuffer)).toEqual(
      new Uint8Array([7, 7]),
    );
    const requested = requestOptions({ publicKey: { challenge, rpId: 'panel.example' } }).publicKey;
    expect(requested?.rpId).toBe('panel.example');
    expect(requested?.allowCredentials).toBeUndefined();
  });
});
