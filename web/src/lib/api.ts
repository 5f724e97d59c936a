// The panel's HTTP API, called with the browser's session cookie. Errors arrive as
// `{"error": {"code", "message", "field"?}}` and are thrown as `ApiError`.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The error an answer carries, in words a person can act on. */
export function errorFrom(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)
    ?.error;
  const code = typeof error?.code === 'string' ? error.code : `http_${status}`;
  const message =
    typeof error?.message === 'string' && error.message !== ''
      ? error.message
      : status >= 500
        ? 'The panel could not do that right now; try again in a moment.'
        : `The panel answered ${status}.`;
  const field = typeof error?.field === 'string' ? error.field : undefined;
  return new ApiError(status, code, message, field);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'offline', 'The panel cannot be reached; check your connection.');
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    throw errorFrom(response.status, parsed);
  }
  return parsed as T;
}

/** `{data: T}`, as most of the API answers. */
export interface Data<T> {
  data: T;
}

/** The panel's message about `field` (an input's name), when `error` is about it. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.message : undefined;
}

/**
 * Whether a form shows `error` above its buttons: it names none of the form's fields
 * (`fields`; one ending in `.` stands for every field under it), so no input shows it.
 */
export function unplacedError(error: unknown, fields: readonly string[]): boolean {
  if (error === null || error === undefined) {
    return false;
  }
  const field = error instanceof ApiError ? error.field : undefined;
  return (
    field === undefined ||
    !fields.some((name) => (name.endsWith('.') ? field.startsWith(name) : field === name))
  );
}
