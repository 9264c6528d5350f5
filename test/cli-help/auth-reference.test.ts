/**
 * `secgate explain auth` documents every key of the auth: section from the
 * schema itself, and docs/auth-mapping.md carries the same text, so neither
 * can promise a key the loader does not accept or miss one it does.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatAuthReference } from '../../src/cli/explain.js';
import { authSchema } from '../../src/engine/checklist/schema.js';

describe('the auth: reference', () => {
  const reference = formatAuthReference();

  it('names every key of the schema, with what it is for', () => {
    for (const key of Object.keys(authSchema.shape)) expect(reference).toContain(`auth.${key}: `);
    expect(reference).toContain('auth.cleanup.forget_address_failures_sql: string, optional — $1 = an address');
    expect(reference).toContain('auth.accounts.<name>.username: string, required');
    expect(reference).toContain('auth.login.path: string, default "/api/v1/auth/login"');
    for (const line of reference.trim().split('\n').slice(2)) expect(line, line).toMatch(/ — \S/);
  });

  it('is what docs/auth-mapping.md shows', () => {
    const docs = readFileSync('docs/auth-mapping.md', 'utf8');
    const block = /## Reference: every `auth:` key[\s\S]*?```text\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(block, 'run `secgate explain auth` and paste it into docs/auth-mapping.md').toBe(reference);
  });
});
