import { describe, expect, it } from 'vitest';

import { frameMessage, pluginUrl } from './frameProtocol';

describe('pluginUrl', () => {
  it('puts a call in the plugin scope it names', () => {
    expect(pluginUrl('hello', 'panel', '/greetings?page=2', undefined)).toBe('/api/plugins/hello/greetings?page=2');
    expect(pluginUrl('hello', 'server', '/hello/notes', 'abcd1234')).toBe('/api/client/servers/abcd1234/hello/notes');
    expect(pluginUrl('hello', 'admin', '/hello/report', undefined)).toBe('/api/admin/hello/report');
  });

  it('refuses paths that could walk out of it', () => {
    for (const path of ['/../admin/users', '/a/../../x', '/./x', '//evil.example/x', 'relative', '/x#y', '/x\\y', '/%2e%2e/x', '/x?a=/../y']) {
      expect(pluginUrl('hello', 'panel', path, undefined), path).toBeNull();
    }
    expect(pluginUrl('hello', 'server', '/notes', undefined)).toBeNull();
  });
});

describe('frameMessage', () => {
  it('accepts well-formed messages only', () => {
    expect(frameMessage({ type: 'api', id: 1, method: 'get', path: '/x', scope: 'panel' })).toEqual({
      type: 'api',
      id: 1,
      method: 'GET',
      path: '/x',
      body: undefined,
      scope: 'panel',
    });
    expect(frameMessage({ type: 'api', id: 1, method: 'CONNECT', path: '/x', scope: 'panel' })).toBeNull();
    expect(frameMessage({ type: 'api', id: 1, method: 'GET', path: '/x', scope: 'root' })).toBeNull();
    expect(frameMessage({ type: 'height', height: 'tall' })).toBeNull();
    expect(frameMessage('ready')).toBeNull();
  });
});
