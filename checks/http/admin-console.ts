/**
 * http.admin-console: no framework admin console (Django admin, WordPress,
 * phpMyAdmin …) is reachable without authentication at its default path — its
 * own finding, not "docs exposed": an admin login form on the internet is an
 * invitation to credential stuffing against the most privileged accounts.
 * A 2xx, or a redirect to an admin page, fails; a 4xx passes.
 */
import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { headerValue } from '../../src/probes/http.js';
import { attemptFailureRequest, describeFailure, describeRequest, targetUrl } from '../../src/probes/http-attempt.js';
import { findingsVerdict } from '../outcome.js';
import { ADMIN_CONSOLES, judgeAdminResponse } from './framework-defaults.js';

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
  params: z
    .object({
      extra_paths: z
        .array(z.string().regex(/^\//, { message: 'expected a path starting with /' }))
        .default([])
        .describe('more console paths to probe (a renamed Django admin, say)'),
    })
    .strict(),
  strength: { extra_paths: 'verified' },
  async run(ctx, params) {
    const consoles = [
      ...ADMIN_CONSOLES,
      ...params.extra_paths.map((path) => ({ path, source: 'named in with.extra_paths' })),
    ];
    const results = await Promise.all(
      consoles.map(async (console) => ({
        console,
        url: targetUrl(ctx.target.url, console.path),
        attempt: await attemptFailureRequest(ctx, targetUrl(ctx.target.url, console.path)),
      })),
    );
    const observations: Observation[] = [];
    const failures: string[] = [];
    const unobserved: string[] = [];
    for (const { console, url, attempt } of results) {
      const probe = describeRequest('GET', url);
      if (attempt.failure) {
        observations.push({ probe, actual: { error: describeFailure(attempt.failure) }, ok: false });
        unobserved.push(`${console.path}: ${describeFailure(attempt.failure)}`);
        continue;
      }
      const location = headerValue(attempt.response, 'location');
      const judgement = judgeAdminResponse(attempt.response.status, location);
      observations.push({
        probe,
        expected: 'a 4xx, or a redirect that does not lead to an admin page',
        actual: { status: attempt.response.status, ...(location !== undefined ? { location } : {}) },
        ok: judgement.ok,
        note: `${console.path} ${judgement.note}`,
      });
      if (!judgement.ok) failures.push(`${console.path}: ${judgement.note} (default of ${console.source})`);
    }
    return findingsVerdict({ failures, unobserved }, observations, {
      pass: `none of the ${consoles.length} default admin console paths is reachable without auth`,
    });
  },
});
