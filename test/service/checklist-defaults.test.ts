/**
 * The checklist's `auth:` defaults (src/engine/checklist/schema.ts) describe the reference
 * service: a checklist with no `auth:` section must aim every auth probe at a route the service
 * really serves, with the body fields it really takes. The service keeps its own literals (it is
 * a template people copy, free of the gate's engine); this test is the link between the two.
 */
import { describe, expect, it } from 'vitest';
import { AUTH_DEFAULTS, TARGET_DEFAULTS } from '../../src/engine/checklist/schema.js';
import { buildApp } from '../../src/service/app.js';
import type { ServiceDeps } from '../../src/service/deps.js';
import { CREDENTIAL_ROUTES, PUBLIC_ROUTES } from '../../src/service/http-policy.js';
import { loginSchema, mfaVerifySchema, refreshSchema } from '../../src/service/routes/auth.js';

const { login, mfa_verify, refresh, me_path } = AUTH_DEFAULTS;

describe('the checklist defaults and the reference service', () => {
  it('name routes the service serves', async () => {
    // Building the app touches none of its dependencies (they are used per request); nothing listens.
    const app = buildApp({} as ServiceDeps);
    await app.ready();
    try {
      for (const [method, url] of [
        ['POST', login.path],
        ['POST', mfa_verify.path],
        ['POST', refresh.path],
        ['GET', me_path],
        ['GET', TARGET_DEFAULTS.health_path],
      ] as const) {
        expect(app.hasRoute({ method, url }), `${method} ${url}`).toBe(true);
      }
    } finally {
      await app.close();
    }
  });

  it('name the fields those routes take and answer', () => {
    const fields = (schema: { body: { properties: object } }) => Object.keys(schema.body.properties).sort();
    expect(fields(loginSchema)).toEqual([login.password_field, login.username_field].sort());
    expect(fields(mfaVerifySchema)).toEqual([mfa_verify.challenge_field, mfa_verify.code_field].sort());
    expect(fields(refreshSchema)).toEqual([refresh.token_field]);
    const { response_fields: answer } = AUTH_DEFAULTS;
    expect(Object.keys(loginSchema.response[200].properties)).toEqual(
      expect.arrayContaining([answer.mfa_required, answer.mfa_challenge]),
    );
    expect(Object.keys(mfaVerifySchema.response[200].properties)).toEqual(
      expect.arrayContaining([answer.access_token, answer.refresh_token]),
    );
  });

  it('name the routes the service leaves public and counts as credential checks', () => {
    const routes = (list: ReadonlyArray<{ method: string; path: string }>) => list.map((r) => `${r.method} ${r.path}`);
    expect(routes(PUBLIC_ROUTES)).toEqual(
      expect.arrayContaining([`POST ${login.path}`, `POST ${mfa_verify.path}`, `POST ${refresh.path}`]),
    );
    expect(routes(CREDENTIAL_ROUTES)).toEqual([`POST ${login.path}`, `POST ${mfa_verify.path}`]);
  });
});
