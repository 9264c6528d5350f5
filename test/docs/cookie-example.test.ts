/**
 * The worked cookie-session example in docs/auth-mapping.md is the mapping the
 * cookie-session fixture is verified with (test/checks/auth/cookie-session.test.ts),
 * so the documented checklist is one that is proven to work, key for key.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COOKIE_AUTH_MAPPING } from '../../fixtures/auth/cookie-server.js';

describe('the worked cookie-session example', () => {
  it('maps the service as the fixture tests do', () => {
    const docs = readFileSync('docs/auth-mapping.md', 'utf8');
    const snippet = /## Worked example: a Django\/DRF service on cookie sessions[\s\S]*?```yaml\n([\s\S]*?)```/.exec(
      docs,
    )?.[1];
    expect(snippet).toBeDefined();
    const { auth } = parse(snippet ?? '') as { auth: Record<string, unknown> };
    for (const [key, value] of Object.entries(COOKIE_AUTH_MAPPING)) {
      if (key === 'columns') continue;
      expect(auth[key], `auth.${key}`).toEqual(value);
    }
    // The docs spell out the username column the fixture leaves to the shared default.
    expect(auth.columns).toEqual({
      failure_events: { ...COOKIE_AUTH_MAPPING.columns.failure_events, username: 'username' },
      ip_blocks: COOKIE_AUTH_MAPPING.columns.ip_blocks,
    });
  });
});
