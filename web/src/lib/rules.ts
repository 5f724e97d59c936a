// What kind of field an egg variable wants, read off its Laravel-style rules
// (`required|integer|between:1,100`). The panel checks values against the rules; the
// form only picks the control and says what is expected up front.

export type Field =
  | { kind: 'switch' }
  | { kind: 'select'; options: string[] }
  | { kind: 'number'; min?: number; max?: number; integer: boolean }
  | { kind: 'text'; maxLength?: number };

/** The rules one by one (`name`, `argument`); a `regex:` argument keeps its own bars. */
export function splitRules(rules: string): { name: string; argument: string }[] {
  const parts: { name: string; argument: string }[] = [];
  let rest = rules;
  while (rest !== '') {
    const bar = rest.indexOf('|');
    const token = bar === -1 ? rest : rest.slice(0, bar);
    const colon = token.indexOf(':');
    const name = (colon === -1 ? token : token.slice(0, colon)).trim();
    let argument = colon === -1 ? '' : token.slice(colon + 1);
    let next = bar === -1 ? '' : rest.slice(bar + 1);
    if (/^(not_)?regex$/.test(name) && colon !== -1) {
      // A pattern may hold bars: it runs to the next bar that starts another rule.
      const after = rest.slice(colon + 1);
      const end = after.search(/\|(?=[a-z_]+(:|\||$))/);
      argument = end === -1 ? after : after.slice(0, end);
      next = end === -1 ? '' : after.slice(end + 1);
    }
    if (name !== '') {
      parts.push({ name, argument });
    }
    rest = next;
  }
  return parts;
}

export function fieldFor(rules: string): Field {
  const parts = splitRules(rules);
  const named = (name: string) => parts.find((part) => part.name === name);
  const numberArgument = (name: string): number | undefined => {
    const part = named(name);
    const value = part === undefined ? NaN : Number(part.argument);
    return Number.isFinite(value) ? value : undefined;
  };
  const allowed = named('in');
  if (named('boolean') !== undefined) {
    return { kind: 'switch' };
  }
  if (allowed !== undefined) {
    return { kind: 'select', options: allowed.argument.split(',') };
  }
  const between = named('between')?.argument.split(',').map(Number);
  const min = numberArgument('min') ?? between?.[0];
  const max = numberArgument('max') ?? between?.[1];
  if (named('integer') !== undefined || named('numeric') !== undefined) {
    return {
      kind: 'number',
      integer: named('integer') !== undefined,
      ...(min !== undefined && Number.isFinite(min) ? { min } : {}),
      ...(max !== undefined && Number.isFinite(max) ? { max } : {}),
    };
  }
  return max !== undefined && Number.isFinite(max) ? { kind: 'text', maxLength: max } : { kind: 'text' };
}

/** Whether the rules make a value mandatory. */
export function isRequired(rules: string): boolean {
  return splitRules(rules).some((part) => part.name === 'required');
}
