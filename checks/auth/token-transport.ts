import { z } from 'zod';
import { defineCheck, type HttpResponse, type Observation } from '../../src/engine/types.js';
import { createAuthClient, describeResponse, resolveAccount } from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, isRefused, verdict } from '../outcome.js';
import { accountParam, flowAddress, flowSourceAddressParam, refusedStatusesParam } from './params.js';

/** Query parameters that, in a Location, betray a credential in a URL. */
const TOKEN_IN_URL = /[?&#;](access_token|refresh_token|id_token|token|jwt|session|mfa_challenge_id)=/i;
/** Cookie names that carry a credential even when the value is opaque. */
const CREDENTIAL_COOKIE = /token|session|jwt|auth|sid/i;
/** Anti-CSRF cookies are meant to be read by scripts (double-submit): not credentials. */
const CSRF_COOKIE = /csrf|xsrf/i;

function headerValues(response: HttpResponse, name: string): string[] {
  const value = response.headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** What a Set-Cookie line lacks of HttpOnly, Secure and SameSite (Lax or Strict; None only with Secure). */
export function missingCookieFlags(setCookie: string): string[] {
  const attributes = setCookie
    .split(';')
    .slice(1)
    .map((attribute) => attribute.trim().toLowerCase());
  const missing: string[] = [];
  if (!attributes.includes('httponly')) missing.push('HttpOnly');
  if (!attributes.includes('secure')) missing.push('Secure');
  if (!attributes.some((attribute) => /^samesite=(lax|strict|none)$/.test(attribute))) missing.push('SameSite');
  return missing;
}

export default defineCheck({
  id: 'auth.token-transport',
  title:
    'Tokens travel only in response bodies, Authorization headers or HttpOnly Secure SameSite cookies, never in URLs',
  source: 'control A6 (docs/controls.md#A6): Credentials never travel in URLs',
  docs: 'docs/controls.md#A6',
  remediation:
    'Return tokens in the JSON body or in cookies flagged HttpOnly; Secure; SameSite, never in a redirect URL, and read them only from the Authorization header (or that cookie), never from ?token= or ?access_token=.',
  rationale: 'URLs end up in access logs, browser history and Referer headers; a token there is a leaked token.',
  effects: 'none',
  severity: 'high',
  params: z
    .object({
      source_address: flowSourceAddressParam.describe(
        "the address the flow comes from; unset: one from the run's pool (target.source_addresses)",
      ),
      account: accountParam('probe_account').describe('the account that logs in (with its TOTP)'),
      query_parameters: z
        .array(z.string().regex(/^[A-Za-z0-9_-]+$/))
        .min(1)
        .default(['token', 'access_token'])
        .describe('query parameters a token is offered in (?access_token=…): none may be accepted'),
      refused_statuses: refusedStatusesParam,
    })
    .strict(),
  strength: { query_parameters: 'verified', refused_statuses: 'accepted' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [`account:${params.account}`],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    if (!probe) return errorOutcome(ctx, `a token flow: the checklist gives no account ${params.account}`, undefined);
    // One failure per token put in the query string.
    const route = { localAddress: await flowAddress(ctx, params.source_address, params.query_parameters.length) };
    const observations: Observation[] = [];
    try {
      const pair = await client.obtainTokens(probe, route);
      const responses = [...pair.responses];
      if (pair.refreshToken) {
        const refreshed = await client.refresh(pair.refreshToken, route);
        responses.push({ step: 'refresh', response: refreshed.response });
      }
      const secretsSeen = [pair.accessToken, pair.refreshToken].filter((value): value is string => Boolean(value));
      for (const { step, response } of responses) {
        const locations = headerValues(response, 'location');
        const leakingLocation = locations.find(
          (location) => TOKEN_IN_URL.test(location) || secretsSeen.some((secret) => location.includes(secret)),
        );
        observations.push({
          probe: `${step} response: Location header`,
          expected: 'no token in a URL',
          actual: locations.map((location) => ctx.secrets.redact(location)),
          ok: leakingLocation === undefined,
          note: leakingLocation
            ? `token in a URL: the ${step} response redirects to ${ctx.secrets.redact(leakingLocation)}`
            : 'no credential in a redirect',
        });
        for (const cookie of headerValues(response, 'set-cookie')) {
          const [nameValue = ''] = cookie.split(';');
          const name = nameValue.split('=')[0]?.trim() ?? '';
          const carriesToken =
            secretsSeen.some((secret) => nameValue.includes(secret)) ||
            (CREDENTIAL_COOKIE.test(name) && !CSRF_COOKIE.test(name));
          if (!carriesToken) continue;
          const missing = missingCookieFlags(cookie);
          observations.push({
            probe: `${step} response: Set-Cookie ${name}`,
            expected: ['HttpOnly', 'Secure', 'SameSite'],
            actual: ctx.secrets.redact(cookie.split(';').slice(1).join(';').trim()),
            ok: missing.length === 0,
            note:
              missing.length === 0
                ? 'credential cookie is HttpOnly, Secure and SameSite'
                : `credential cookie ${name} lacks ${missing.join(', ')}`,
          });
        }
      }
      const header = await client.getWithCredential(client.mapping.me_path, pair.accessToken, route);
      observations.push({
        probe: `GET ${client.mapping.me_path} with the token in the Authorization header`,
        actual: { status: header.status },
        note: 'the baseline: the token works where it belongs',
      });
      if (header.status < 200 || header.status > 299) {
        return errorOutcome(
          ctx,
          `a working baseline: the real token got ${header.status} in the Authorization header`,
          undefined,
          observations,
        );
      }
      for (const parameter of params.query_parameters) {
        const url = client.url(client.mapping.me_path);
        url.searchParams.set(parameter, pair.accessToken);
        const response = await ctx.http.request(url, {
          headers: { accept: 'application/json' },
          localAddress: route.localAddress,
        });
        const refused = isRefused(response.status, params.refused_statuses);
        observations.push({
          probe: `GET ${client.mapping.me_path}?${parameter}=${JSON.stringify(ctx.secrets.fingerprint(pair.accessToken))} without Authorization`,
          expected: { status: params.refused_statuses },
          actual: describeResponse(ctx, response),
          ok: refused,
          note: refused
            ? 'a token in the URL is ignored'
            : `token accepted from the URL query ?${parameter}= (${response.status})`,
        });
      }
    } catch (error) {
      return errorOutcome(ctx, 'token transport', error, observations);
    }
    return verdict(
      observations,
      'tokens only in bodies or protected cookies; none in a URL; a token in the query string is refused',
      brokenNotes(observations),
    );
  },
});
