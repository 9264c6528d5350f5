/**
 * http.admin-console: no framework admin console (Django admin, WordPress,
 * phpMyAdmin …) is reachable without authentication at its default path — its
 * own finding, not "docs exposed": an admin login form on the internet is an
 * invitation to credential stuffing against the most privileged accounts.
 * A 2xx, or a redirect to an admin page, fails; a 4xx passes. Probing records
 * each answer's status and Location; judgeAdminConsoles is pure.
 */
import { z } from 'zod';
import { type CheckContext, type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import {
  attemptFailureRequest,
  describeFailure,
  describeRequest,
  type HttpFailure,
  targetUrl,
} from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';
import { ADMIN_CONSOLES, judgeAdminResponse } from './framework-defaults.js';

export const adminConsoleParams = z
  .object({
    extra_paths: z
      .array(z.string().regex(/^\//, { message: 'expected a path starting with /' }))
      .default([])
      .describe('more console paths to probe (a renamed Django admin, say)'),
  })
  .strict();
type AdminConsoleParams = z.output<typeof adminConsoleParams>;

/** One default console path, and what it answered without credentials (or why it did not). */
export interface AdminConsoleProbe {
  path: string;
  /** Whose default it is: `Django admin`, `named in with.extra_paths`. */
  source: string;
  url: string;
  answer: { status: number; location: string | undefined } | undefined;
  failure: HttpFailure | undefined;
}

/** The verdict on every console path. Pure: a 2xx or a redirect into an admin page fails; no answer is an error. */
export function judgeAdminConsoles(seen: readonly AdminConsoleProbe[]): CheckOutcome {
  const observations: Observation[] = [];
  const failures: string[] = [];
  const unobserved: string[] = [];
  for (const console of seen) {
    const probe = describeRequest('GET', console.url);
    const { answer } = console;
    if (!answer) {
      const why = console.failure ? describeFailure(console.failure) : 'no answer';
      observations.push({ probe, actual: { error: why }, ok: false });
      unobserved.push(`${console.path}: ${why}`);
      continue;
    }
    const judgement = judgeAdminResponse(answer.status, answer.location);
    observations.push({
      probe,
      expected: 'a 4xx, or a redirect that does not lead to an admin page',
      actual: { status: answer.status, ...(answer.location !== undefined ? { location: answer.location } : {}) },
      ok: judgement.ok,
      note: `${console.path} ${judgement.note}`,
    });
    if (!judgement.ok) failures.push(`${console.path}: ${judgement.note} (default of ${console.source})`);
  }
  if (seen.length === 0) unobserved.push('no console path was requested');
  return findingsVerdict({ failures, unobserved }, observations, {
    pass: `none of the ${seen.length} default admin console paths is reachable without auth`,
  });
}

/** Requests every default console path without credentials: everything judgeAdminConsoles needs. */
export async function probeAdminConsoles(ctx: CheckContext, params: AdminConsoleParams): Promise<AdminConsoleProbe[]> {
  const consoles = [
    ...ADMIN_CONSOLES,
    ...params.extra_paths.map((path) => ({ path, source: 'named in with.extra_paths' })),
  ];
  return Promise.all(
    consoles.map(async ({ path, source }): Promise<AdminConsoleProbe> => {
      const url = targetUrl(ctx.target.url, path);
      const attempt = await attemptFailureRequest(ctx, url);
      const sent = { path, source, url: url.toString() };
      if (attempt.failure) return { ...sent, answer: undefined, failure: attempt.failure };
      return {
        ...sent,
        answer: { status: attempt.response.status, location: headerValue(attempt.response, 'location') },
        failure: undefined,
      };
    }),
  );
}

export default defineCheck({
  id: 'http.admin-console',
  title: 'No framework admin console is reachable without authentication at its default path',
  source: 'control S6 (docs/controls.md#S6): No administration console without authentication',
  docs: 'docs/controls.md#S6',
  severity: 'high',
  remediation:
    'Remove the admin console from the public deployment (Django: do not route admin.site.urls, or serve it on an internal host), or put it behind the network allow-list or SSO in front of the service.',
  rationale:
    'A default admin path is the first thing a scanner tries; its login form faces the most privileged accounts.',
  effects: 'none',
  params: adminConsoleParams,
  strength: { extra_paths: 'verified' },
  async run(ctx, params) {
    return judgeAdminConsoles(await probeAdminConsoles(ctx, params));
  },
});
