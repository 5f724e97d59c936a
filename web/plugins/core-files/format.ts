// Small words for sizes, times and permission bits.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(size: number): string {
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** `3 minutes ago`, `yesterday`, or the date, for a time in the past. */
export function ago(at: Date, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - at.getTime()) / 1000);
  if (seconds < 45) {
    return 'just now';
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `${minutes} minute${minutes === 1 ? '' : 's'} ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 24) {
    return `${hours} hour${hours === 1 ? '' : 's'} ago`;
  }
  const days = Math.round(hours / 24);
  if (days === 1) {
    return 'yesterday';
  }
  if (days < 7) {
    return `${days} days ago`;
  }
  return at.toLocaleDateString();
}

/** The permission bits `755` as nine ticks: owner, group, others × read, write, run. */
export function modeBits(octal: string): boolean[] {
  const digits = octal.padStart(3, '0').slice(-3);
  return [...digits].flatMap((digit) => {
    const value = Number.parseInt(digit, 8);
    return [(value & 4) !== 0, (value & 2) !== 0, (value & 1) !== 0];
  });
}

/** Nine ticks back to `755`. */
export function modeOctal(bits: boolean[]): string {
  let text = '';
  for (let who = 0; who < 3; who += 1) {
    const [read, write, run] = bits.slice(who * 3, who * 3 + 3);
    text += String((read === true ? 4 : 0) + (write === true ? 2 : 0) + (run === true ? 1 : 0));
  }
  return text;
}

export function validMode(text: string): boolean {
  return /^[0-7]{3}$/.test(text);
}

/** A name the node will take for a new file or folder: no slashes, not `.` or `..`. */
export function nameProblem(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed === '') {
    return 'Give it a name.';
  }
  if (trimmed === '.' || trimmed === '..') {
    return 'That name is taken by the folder itself.';
  }
  if (trimmed.includes('\0')) {
    return 'A name cannot hold a NUL character.';
  }
  return null;
}

/** The largest file the editor opens; larger ones are downloaded. */
export const EDITABLE_BYTES = 8 * 1024 * 1024;

const TEXT_NAMES = /\.(txt|log|cfg|conf|config|ini|properties|ya?ml|json|json5|toml|xml|html?|css|s?js|mjs|ts|tsx|lua|py|sh|bash|bat|cmd|ps1|java|kt|md|csv|env|sk|mcfunction|mcmeta|lang|sql|php|rb|go|rs|c|h|cpp|cs|vdf|acf|db2|secret|whitelist|ops|banned-players)$/i;

/** Whether a file is text, by its type or its name. */
export function isText(name: string, mimetype: string): boolean {
  return (
    mimetype.startsWith('text/') ||
    /json|xml|yaml|toml|javascript|x-sh|x-empty|inode\/x-empty/.test(mimetype) ||
    TEXT_NAMES.test(name) ||
    !name.includes('.')
  );
}
