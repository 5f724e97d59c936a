import { describe, expect, it } from 'vitest';

import { parseRoleMap } from './roleMap';

describe('role maps', () => {
  it('read one claim=role per line and skip the rest', () => {
    expect(parseRoleMap('ops = operators\n\nbroken\nplayers=members\n=x')).toEqual({
      ops: 'operators',
      players: 'members',
    });
  });
});
