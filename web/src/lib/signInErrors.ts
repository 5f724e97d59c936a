// What the sign-in pages say for the `?error=` codes the panel and core-auth redirect
// with. Every refused sign-in reads the same, so nothing tells whether an account exists.

const MESSAGES: Record<string, string> = {
  credentials: 'The username or password is not right.',
  'too-many-attempts': 'Too many failed sign-ins. Wait a few minutes and try again.',
  'oauth-state':
    'That sign-in link is not from this browser or has expired. Start the sign-in again.',
  'oauth-denied': 'The identity provider did not sign you in.',
  'oauth-provider': 'The identity provider could not be reached or answered wrongly. Try again later.',
  'oauth-not-linked':
    'No account here is linked to that identity yet. Sign in another way and link it under Account → Security.',
  'oauth-no-account':
    'No account could be opened for that identity: it needs an e-mail address the provider has verified and that no account here uses. Sign in another way and link it instead.',
  'oauth-linked-elsewhere': 'That identity is already linked to another account.',
  'oauth-already-linked': 'An identity from that provider is already linked to your account.',
};

export function signInError(code: string | null): string | null {
  if (code === null || code === '') {
    return null;
  }
  return MESSAGES[code] ?? 'Signing in did not work. Try again.';
}

/** Where to go after signing in: a path on this panel, never another site. */
export function safeRedirect(wanted: string | null): string {
  if (
    wanted !== null &&
    wanted.startsWith('/') &&
    !wanted.startsWith('//') &&
    !wanted.includes('\\') &&
    ![...wanted].some((character) => character.charCodeAt(0) < 0x20)
  ) {
    return wanted;
  }
  return '/';
}
