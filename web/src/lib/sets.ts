// Small helpers for the sets behind checkbox lists.

/** `set` with `names` in it (`on`) or out of it: for checkbox lists. */
export function toggled<T>(set: ReadonlySet<T>, names: readonly T[], on: boolean): Set<T> {
  const next = new Set(set);
  for (const name of names) {
    if (on) {
      next.add(name);
    } else {
      next.delete(name);
    }
  }
  return next;
}
