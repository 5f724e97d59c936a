import { describe, expect, it } from 'vitest';

import { settingFields } from './schemaForm';

describe('settingFields', () => {
  it('gives each property the control its type wants', () => {
    const fields = settingFields({
      type: 'object',
      properties: {
        greeting: { title: 'Greeting', description: 'First word', type: 'string' },
        token: { type: 'string', writeOnly: true },
        region: { type: 'string', enum: ['eu', 'us'] },
        kept: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: ['number', 'null'] },
        loud: { type: 'boolean' },
        hosts: { type: 'array', items: { type: 'string' } },
        nested: { type: 'object', properties: {} },
      },
    });
    expect(fields).toEqual([
      { key: 'greeting', title: 'Greeting', description: 'First word', kind: 'text', sealed: false },
      { key: 'token', title: 'token', description: '', kind: 'text', sealed: true },
      { key: 'region', title: 'region', description: '', kind: 'text', sealed: false, options: ['eu', 'us'] },
      { key: 'kept', title: 'kept', description: '', kind: 'number', integer: true, min: 1, max: 10 },
      { key: 'ratio', title: 'ratio', description: '', kind: 'number', integer: false },
      { key: 'loud', title: 'loud', description: '', kind: 'switch' },
      { key: 'hosts', title: 'hosts', description: '', kind: 'list' },
      { key: 'nested', title: 'nested', description: '', kind: 'json' },
    ]);
  });

  it('has nothing to show for a schema without properties', () => {
    expect(settingFields({ type: 'object' })).toEqual([]);
    expect(settingFields(null)).toEqual([]);
  });
});
