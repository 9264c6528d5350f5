/**
 * The auth part of `secgate init`'s starter runs as written against the
 * reference service: uncomment the database: and auth: sections and the auth
 * checks that need nothing more, give the variables the shipped
 * checklist.yaml uses, and every one of them passes.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';
import { renderStarterChecklist } from '../../src/cli/init.js';
import { parseChecklist } from '../../src/engine/checklist/load.js';
import { runEntries } from '../support/engine-run.js';
import { startReferenceTarget } from '../support/reference-service.js';

/** The checks whose defaults run as written once the auth and database sections are in. */
const AS_WRITTEN = [
  'auth.ip-block',
  'auth.lockout',
  'auth.mfa-enforced',
  'auth.no-enumeration',
  'auth.refresh-rotation',
  'auth.token-transport',
];

/** What an operator does with the starter: uncomment the two sections and these checks. */
function uncomment(starter: string): string {
  let inSections = false;
  return starter
    .split('\n')
    .flatMap((line) => {
      if (/^# (database|auth):$/.test(line)) inSections = true;
      if (inSections && !line.startsWith('#')) inSections = false;
      if (inSections) return [line.replace(/^# ?/, '')];
      const entry = /^ {2}# - check: (\S+)$/.exec(line);
      if (entry?.[1] && AS_WRITTEN.includes(entry[1])) return [`  - check: ${entry[1]}`];
      // Only the auth checks: the others probe TLS and HTTP, which other tests cover.
      if (/^ {2}- check: /.test(line)) return [];
      return [line];
    })
    .join('\n');
}

describe('the starter checklist of secgate init', () => {
  it('runs its auth section as written against the reference service', async () => {
    const reference = await startReferenceTarget();
    try {
      const { auth } = reference.context;
      const text = uncomment(renderStarterChecklist({ url: reference.service.httpsUrl }, allChecks));
      const loaded = parseChecklist(text, path.resolve('starter.yaml'), {
        env: {
          DATABASE_URL: reference.service.databaseUrl,
          SECGATE_PROBE_PASSWORD: auth.probe_account.password,
          SECGATE_PROBE_TOTP_SECRET: auth.probe_account.totp_secret,
          SECGATE_NOMFA_PASSWORD: auth.no_mfa_account.password,
        },
        registry: allChecks,
      });
      expect(loaded.entries.map((entry) => entry.id).sort()).toEqual(AS_WRITTEN);
      const results = await runEntries(
        {
          target: { ...loaded.checklist.target, caPem: reference.context.target.caPem },
          databaseUrl: loaded.checklist.database?.url,
          auth: loaded.checklist.auth,
        },
        loaded.entries,
      );
      expect(
        results.map((result) =>
          `${result.entry.id}: ${result.status} ${result.status === 'pass' ? '' : result.outcome.summary}`.trim(),
        ),
      ).toEqual([...AS_WRITTEN.map((id) => `${id}: pass`), 'secgate.cleanup: pass']);
    } finally {
      await reference.close();
    }
  });
});
