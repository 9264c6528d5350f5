import { describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';
import { BUILT_IN_CHECK_IDS, loadBuiltInChecks } from '../../checks/lazy.js';

describe('the lazy registry (checks/lazy.ts) that verify loads checks through', () => {
  it('names every check of the full registry, and nothing else', () => {
    expect([...BUILT_IN_CHECK_IDS].sort()).toEqual(allChecks.map((check) => check.id).sort());
  });

  it('loads the very check objects of the full registry, each id to its own module', async () => {
    const loaded = await loadBuiltInChecks(BUILT_IN_CHECK_IDS);
    expect(loaded?.map((check) => check.id)).toEqual([...BUILT_IN_CHECK_IDS]);
    for (const check of loaded ?? []) expect(allChecks).toContain(check);
  });

  it('answers undefined for an id that is not a built-in (verify then loads every check, for its suggestions)', async () => {
    expect(await loadBuiltInChecks(['tls.protocols', 'tls.protocol'])).toBeUndefined();
    expect(await loadBuiltInChecks(['constructor'])).toBeUndefined();
    expect((await loadBuiltInChecks(['tls.protocols', 'tls.protocols']))?.length).toBe(1);
  });
});
