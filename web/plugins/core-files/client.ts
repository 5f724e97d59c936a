// The file API this plugin serves, called from the panel's page as the person looking
// (the module is trusted: it runs in the page, with the session cookie). File bytes,
// uploads and search results go straight to the node through one-use signed URLs.

export interface FileEntry {
  name: string;
  mode: string;
  mode_bits: string;
  size: number;
  is_file: boolean;
  is_symlink: boolean;
  mimetype: string;
  modified_at: string;
}

export interface Revision {
  revision: number;
  created_at: string;
  username: string | null;
  via: string;
  size: number;
  sha256: string;
  stored_bytes: number;
  snapshot: boolean;
  restored_from: number | null;
}

export interface DiffLine {
  kind: 'context' | 'added' | 'removed';
  text: string;
}

export interface Hunk {
  old_start: number;
  old_lines: number;
  new_start: number;
  new_lines: number;
  lines: DiffLine[];
}

export interface Diff {
  from: number;
  to: number | 'current';
  added: number;
  removed: number;
  hunks: Hunk[];
  unified: string;
}

export interface ArchiveEntry {
  name: string;
  size: number;
  directory: boolean;
  symlink: boolean;
  modified?: number;
}

export interface SearchHit {
  path: string;
  size: number;
  modified: number;
  directory: boolean;
  matches?: { line: number; text: string }[];
}

export interface SearchSummary {
  done: true;
  scanned: number;
  hits: number;
  truncated: boolean;
  elapsed_ms: number;
}

export interface SearchQuery {
  name?: string;
  glob?: string;
  content?: string;
  case_sensitive?: boolean;
  min_size?: number | undefined;
  max_size?: number | undefined;
  modified_after?: number | undefined;
  modified_before?: number | undefined;
}

/** A refusal or failure, with the panel's words for it. */
export class FilesError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function failure(response: Response): Promise<FilesError> {
  let message = `The panel answered ${response.status}.`;
  try {
    const body = (await response.json()) as { error?: { message?: string }; errors?: { detail?: string }[] };
    message = body.error?.message ?? body.errors?.[0]?.detail ?? message;
  } catch {
    // Not JSON: the status says enough.
  }
  if (response.status === 403 && !message.includes('permission')) {
    message = `You do not have permission to do that. (${message})`;
  }
  return new FilesError(response.status, message);
}

/** `/a/b` joined with `c`, never doubling or leaving the root. */
export function join(directory: string, name: string): string {
  return `${directory.replace(/\/+$/, '')}/${name}`.replace(/^\/*/, '/');
}

/** The folder holding `path`. */
export function parent(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  return cut <= 0 ? '/' : trimmed.slice(0, cut);
}

/** The last part of `path`. */
export function baseName(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() ?? '';
}

const ARCHIVE = /\.(zip|jar|tar|tar\.gz|tgz|tar\.zst|tzst|7z)$/i;

export function isArchive(name: string): boolean {
  return ARCHIVE.test(name);
}

export class FilesClient {
  private readonly base: string;

  constructor(server: string) {
    this.base = `/api/client/servers/${encodeURIComponent(server)}/files`;
  }

  private async send(method: string, path: string, body?: BodyInit, json = false, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (json) {
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        credentials: 'same-origin',
        headers,
        ...(body === undefined ? {} : { body }),
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') {
        throw error;
      }
      throw new FilesError(0, 'The panel cannot be reached; check your connection.');
    }
    if (!response.ok) {
      throw await failure(response);
    }
    return response;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body), body !== undefined);
    const text = await response.text();
    return (text === '' ? null : JSON.parse(text)) as T;
  }

  async list(directory: string): Promise<FileEntry[]> {
    const answer = await this.json<{ data: { attributes: FileEntry }[] }>('GET', `/list?directory=${encodeURIComponent(directory)}`);
    return answer.data.map((item) => item.attributes);
  }

  async contents(file: string, signal?: AbortSignal): Promise<string> {
    const response = await this.send('GET', `/contents?file=${encodeURIComponent(file)}`, undefined, false, signal);
    return response.text();
  }

  async write(file: string, text: string): Promise<void> {
    await this.send('POST', `/write?file=${encodeURIComponent(file)}`, text);
  }

  async createFolder(root: string, name: string): Promise<void> {
    await this.json('POST', '/create-folder', { root, name });
  }

  /** Renames or moves: each `from` and `to` is relative to `root`. */
  async rename(root: string, files: { from: string; to: string }[]): Promise<void> {
    await this.json('PUT', '/rename', { root, files });
  }

  async copy(location: string): Promise<void> {
    await this.json('POST', '/copy', { location });
  }

  async remove(root: string, files: string[]): Promise<void> {
    await this.json('POST', '/delete', { root, files });
  }

  async chmod(root: string, files: { file: string; mode: string }[]): Promise<void> {
    await this.json('POST', '/chmod', { root, files });
  }

  async compress(root: string, files: string[]): Promise<FileEntry> {
    const answer = await this.json<{ attributes: FileEntry }>('POST', '/compress', { root, files });
    return answer.attributes;
  }

  async decompress(root: string, file: string): Promise<void> {
    await this.json('POST', '/decompress', { root, file });
  }

  async pull(url: string, directory: string, filename: string): Promise<void> {
    await this.json('POST', '/pull', { url, directory, ...(filename === '' ? {} : { filename }) });
  }

  private async signed(path: string): Promise<string> {
    const answer = await this.json<{ attributes: { url: string } }>('GET', path);
    return answer.attributes.url;
  }

  downloadUrl(file: string): Promise<string> {
    return this.signed(`/download?file=${encodeURIComponent(file)}`);
  }

  uploadUrl(directory: string): Promise<string> {
    return this.signed(`/upload?directory=${encodeURIComponent(directory)}`);
  }

  searchUrl(directory: string, query: SearchQuery): Promise<string> {
    const params = new URLSearchParams({ directory });
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '' && value !== false) {
        params.set(key, String(value));
      }
    }
    return this.signed(`/search?${params.toString()}`);
  }

  async checksum(file: string, algorithm: 'sha256' | 'md5' | 'crc32'): Promise<string> {
    const answer = await this.json<{ attributes: { checksum: string } }>(
      'GET',
      `/checksum?file=${encodeURIComponent(file)}&algorithm=${algorithm}`,
    );
    return answer.attributes.checksum;
  }

  async archive(file: string): Promise<ArchiveEntry[]> {
    const answer = await this.json<{ data: { attributes: ArchiveEntry }[] }>('GET', `/archive?file=${encodeURIComponent(file)}`);
    return answer.data.map((item) => item.attributes);
  }

  async archiveEntry(file: string, entry: string): Promise<string> {
    const response = await this.send('GET', `/archive/contents?file=${encodeURIComponent(file)}&entry=${encodeURIComponent(entry)}`);
    return response.text();
  }

  async extract(file: string, entries: string[], root: string): Promise<void> {
    await this.json('POST', '/archive/extract', { file, entries, root });
  }

  async history(file: string): Promise<Revision[]> {
    const answer = await this.json<{ data: Revision[] }>('GET', `/history?file=${encodeURIComponent(file)}`);
    return answer.data;
  }

  async revision(file: string, revision: number): Promise<string> {
    const response = await this.send('GET', `/history/contents?file=${encodeURIComponent(file)}&revision=${revision}`);
    return response.text();
  }

  async diff(file: string, from: number, to: number | 'current'): Promise<Diff> {
    const answer = await this.json<{ data: Diff }>(
      'GET',
      `/history/diff?file=${encodeURIComponent(file)}&from=${from}&to=${to}`,
    );
    return answer.data;
  }

  async restore(file: string, revision: number): Promise<Revision> {
    const answer = await this.json<{ data: Revision }>('POST', '/history/restore', { file, revision });
    return answer.data;
  }
}

/** One upload straight to the node, with its progress; `abort` stops it. */
export function upload(
  url: string,
  file: File,
  onProgress: (sent: number) => void,
): { done: Promise<void>; abort: () => void } {
  const request = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        resolve();
        return;
      }
      let message = `The node answered ${request.status}.`;
      try {
        const body = JSON.parse(request.responseText) as { error?: string | { message?: string } };
        message = typeof body.error === 'string' ? body.error : (body.error?.message ?? message);
      } catch {
        // Not JSON.
      }
      reject(new FilesError(request.status, message));
    };
    request.onerror = () => reject(new FilesError(0, 'The node cannot be reached from this browser.'));
    request.onabort = () => reject(new FilesError(0, 'Cancelled.'));
  });
  const form = new FormData();
  form.append('files', file, file.name);
  request.open('POST', url);
  request.send(form);
  return { done, abort: () => request.abort() };
}

/**
 * Runs a search on the node and hands each hit over as it arrives (the node streams
 * JSON lines: hits, then a summary or an error).
 */
export async function streamSearch(
  url: string,
  signal: AbortSignal,
  onHit: (hit: SearchHit) => void,
): Promise<SearchSummary> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') {
      throw error;
    }
    throw new FilesError(0, 'The node cannot be reached from this browser.');
  }
  if (!response.ok || response.body === null) {
    throw await failure(response);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value !== undefined) {
      pending += value;
    }
    const lines = pending.split('\n');
    pending = done ? '' : (lines.pop() ?? '');
    for (const line of lines) {
      if (line.trim() === '') {
        continue;
      }
      const item = JSON.parse(line) as SearchHit | SearchSummary | { error: string };
      if ('error' in item) {
        throw new FilesError(400, item.error);
      }
      if ('done' in item) {
        return item;
      }
      onHit(item);
    }
    if (done) {
      throw new FilesError(0, 'The search ended without its summary; the node may have restarted.');
    }
  }
}
