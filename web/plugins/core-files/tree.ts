// An archive's flat list of entries as folders to walk.

import type { ArchiveEntry } from './client';

export interface Item {
  name: string;
  /** The path inside the archive. */
  path: string;
  directory: boolean;
  size: number;
}

/** What is directly inside `folder` (`''` is the top), folders made up from deeper paths too. */
export function itemsIn(entries: ArchiveEntry[], folder: string): Item[] {
  const prefix = folder === '' ? '' : `${folder}/`;
  const items = new Map<string, Item>();
  for (const entry of entries) {
    if (!entry.name.startsWith(prefix) || entry.name === folder) {
      continue;
    }
    const rest = entry.name.slice(prefix.length);
    const cut = rest.indexOf('/');
    if (cut === -1) {
      items.set(rest, { name: rest, path: entry.name, directory: entry.directory, size: entry.size });
    } else {
      const name = rest.slice(0, cut);
      items.set(name, { name, path: `${prefix}${name}`, directory: true, size: 0 });
    }
  }
  return [...items.values()].sort((a, b) => (a.directory === b.directory ? a.name.localeCompare(b.name) : a.directory ? -1 : 1));
}
