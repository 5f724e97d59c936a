/** `ops=operators` lines (an identity provider's claim value, a role here) as a map. */
export function parseRoleMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [claim, role] = line.split('=').map((part) => part.trim());
    if (claim !== undefined && claim !== '' && role !== undefined && role !== '') {
      map[claim] = role;
    }
  }
  return map;
}
