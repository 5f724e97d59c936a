// WebAuthn between the panel (webauthn-rs, which speaks base64url JSON) and the
// browser's `navigator.credentials` (which speaks ArrayBuffers).

type Json = Record<string, unknown>;

export function fromBase64Url(text: string): ArrayBuffer {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) {
    bytes[index] = binary.charCodeAt(index);
  }
  return bytes.buffer;
}

export function toBase64Url(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes =
    buffer instanceof ArrayBuffer
      ? new Uint8Array(buffer)
      : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = '';
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function withIds(list: unknown): unknown {
  if (!Array.isArray(list)) {
    return list;
  }
  return list.map((item: Json) => ({ ...item, id: fromBase64Url(item.id as string) }));
}

/** `navigator.credentials.create` options from the panel's JSON. */
export function creationOptions(options: Json): CredentialCreationOptions {
  const publicKey = options.publicKey as Json;
  const user = publicKey.user as Json;
  return {
    publicKey: {
      ...publicKey,
      challenge: fromBase64Url(publicKey.challenge as string),
      user: { ...user, id: fromBase64Url(user.id as string) },
      excludeCredentials: withIds(publicKey.excludeCredentials),
    } as unknown as PublicKeyCredentialCreationOptions,
  };
}

/** `navigator.credentials.get` options from the panel's JSON. */
export function requestOptions(options: Json): CredentialRequestOptions {
  const publicKey = options.publicKey as Json;
  return {
    publicKey: {
      ...publicKey,
      challenge: fromBase64Url(publicKey.challenge as string),
      allowCredentials: withIds(publicKey.allowCredentials),
    } as unknown as PublicKeyCredentialRequestOptions,
  };
}

/** A new credential as the panel reads it. */
export function registrationJson(credential: PublicKeyCredential): Json {
  const response = credential.response as AuthenticatorAttestationResponse;
  return {
    id: credential.id,
    rawId: toBase64Url(credential.rawId),
    type: credential.type,
    response: {
      attestationObject: toBase64Url(response.attestationObject),
      clientDataJSON: toBase64Url(response.clientDataJSON),
      transports: response.getTransports?.() ?? [],
    },
    extensions: credential.getClientExtensionResults(),
  };
}

/** An assertion as the panel reads it. */
export function assertionJson(credential: PublicKeyCredential): Json {
  const response = credential.response as AuthenticatorAssertionResponse;
  return {
    id: credential.id,
    rawId: toBase64Url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toBase64Url(response.authenticatorData),
      clientDataJSON: toBase64Url(response.clientDataJSON),
      signature: toBase64Url(response.signature),
      userHandle: response.userHandle === null ? null : toBase64Url(response.userHandle),
    },
    extensions: credential.getClientExtensionResults(),
  };
}

/** Whether this browser can use passkeys at all. */
export function passkeysSupported(): boolean {
  return typeof window !== 'undefined' && 'PublicKeyCredential' in window;
}
