import { z } from 'zod';
import {
  type CheckContext,
  type CheckOutcome,
  defineCheck,
  type HttpResponse,
  type Observation,
  type SecretFingerprint,
} from '../../src/engine/types.js';
import { createAuthClient, resolveAccount } from '../../src/probes/auth-client.js';
import { parseSetCookie } from '../../src/probes/cookie-jar.js';
import {
  brokenNotes,
  is2xx,
  isRefused,
  type SeenAnswer,
  seenAnswer,
  unobservedOutcome,
  unobservedWhat,
  verdict,
} from '../outcome.js';
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

/** What a cookie's attribute list (`Path=/; HttpOnly; Secure`) lacks of HttpOnly, Secure and SameSite. */
function missingFlags(attributes: readonly string[]): string[] {
  const lower = attributes.map((attribute) => attribute.trim().toLowerCase());
  const missing: string[] = [];
  if (!lower.includes('httponly')) missing.push('HttpOnly');
  if (!lower.includes('secure')) missing.push('Secure');
  if (!lower.some((attribute) => /^samesite=(lax|strict|none)$/.test(attribute))) missing.push('SameSite');
  return missing;
}

/** What a Set-Cookie line lacks of HttpOnly, Secure and SameSite (Lax or Strict; None only with Secure). */
export function missingCookieFlags(setCookie: string): string[] {
  return missingFlags(setCookie.split(';').slice(1));
}

const tokenTransportParams = z
  .object({
    source_address: flowSourceAddressParam.describe(
      "the address the flow comes from; unset: one from the run's pool (target.source_addresses)",
    ),
    account: accountParam('probe_account').describe('the account that logs in (with its TOTP)'),
    query_parameters: z
      .array(z.string().regex(/^[A-Za-z0-9_-]+$/))
      .min(1)
      .default(['token', 'access_token'])
      .describe(
        "query parameters a token is offered in (?access_token=…), besides the credential's own name (a session cookie's, ?sessionid=…): none may be accepted",
      ),
    refused_statuses: refusedStatusesParam,
  })
  .strict();
type TokenTransportParams = z.output<typeof tokenTransportParams>;

/** A Location header of the flow, as shown (secrets scrubbed). */
export interface SeenLocation {
  shown: string;
  /** The raw value held a credential the flow handed out (only the probe, which knows it, can say). */
  carriesCredential: boolean;
}

/** A Set-Cookie line of the flow: its name and attributes, never its value. */
export interface SeenCookie {
  name: string;
  /** `Path=/; HttpOnly; Secure`: everything after the value, secrets scrubbed. */
  attributes: string;
  /** The value is a credential the flow handed out (only the probe, which knows it, can say). */
  carriesCredential: boolean;
  /** The line expires the cookie (an empty value, Max-Age=0, an Expires in the past): the browser drops it. */
  clears: boolean;
}

/** What the probe saw: plain data with secrets only as fingerprints, judged by judgeTokenTransport. */
export interface TokenTransportSeen {
  mePath: string;
  /** Every response of the login flow (and of the refresh), in order. */
  steps: { step: string; locations: SeenLocation[]; cookies: SeenCookie[] }[];
  /** The real token in the Authorization header: it must work, or the refusals below prove nothing. */
  baselineStatus: number | undefined;
  /** The real token's fingerprint, as the query-string probes name it. */
  credential: SecretFingerprint | undefined;
  /** The real token offered in the query string, without Authorization: every answer must be a refusal. */
  inQuery: { parameter: string; answer: SeenAnswer }[];
  /** What stopped the probe before it had everything to judge, scrubbed of secrets: the check is an error. */
  unobserved: string | undefined;
}

/** Pure: a step's redirect must carry no credential, and its credential cookies must be HttpOnly, Secure and SameSite. */
function judgeStep(step: TokenTransportSeen['steps'][number]): Observation[] {
  const leaking = step.locations.find((location) => location.carriesCredential || TOKEN_IN_URL.test(location.shown));
  const observations: Observation[] = [
    {
      probe: `${step.step} response: Location header`,
      expected: 'no token in a URL',
      actual: step.locations.map((location) => location.shown),
      ok: leaking === undefined,
      note: leaking
        ? `token in a URL: the ${step.step} response redirects to ${leaking.shown}`
        : 'no credential in a redirect',
    },
  ];
  for (const cookie of step.cookies) {
    const carriesToken =
      cookie.carriesCredential || (CREDENTIAL_COOKIE.test(cookie.name) && !CSRF_COOKIE.test(cookie.name));
    if (!carriesToken) continue;
    // A deletion hands the browser nothing to protect (Django's delete_cookie writes no HttpOnly): evidence, no verdict.
    if (cookie.clears && !cookie.carriesCredential) {
      observations.push({
        probe: `${step.step} response: Set-Cookie ${cookie.name}`,
        actual: cookie.attributes,
        note: 'the cookie is cleared: no credential to protect',
      });
      continue;
    }
    const missing = missingFlags(cookie.attributes.split(';'));
    observations.push({
      probe: `${step.step} response: Set-Cookie ${cookie.name}`,
      expected: ['HttpOnly', 'Secure', 'SameSite'],
      actual: cookie.attributes,
      ok: missing.length === 0,
      note:
        missing.length === 0
          ? 'credential cookie is HttpOnly, Secure and SameSite'
          : `credential cookie ${cookie.name} lacks ${missing.join(', ')}`,
    });
  }
  return observations;
}

/**
 * The verdict on what the probe saw. Pure: no credential in a redirect, credential cookies flagged,
 * the real token working in the Authorization header (else nothing is proven: error) and refused in
 * the query string.
 */
export function judgeTokenTransport(
  seen: TokenTransportSeen,
  params: Pick<TokenTransportParams, 'refused_statuses' | 'query_parameters'>,
): CheckOutcome {
  const observations = seen.steps.flatMap(judgeStep);
  if (seen.baselineStatus !== undefined) {
    observations.push({
      probe: `GET ${seen.mePath} with the token in the Authorization header`,
      actual: { status: seen.baselineStatus },
      note: 'the baseline: the token works where it belongs',
    });
    if (!is2xx(seen.baselineStatus)) {
      return unobservedOutcome(
        `a working baseline: the real token got ${seen.baselineStatus} in the Authorization header`,
        observations,
      );
    }
  }
  for (const { parameter, answer } of seen.inQuery) {
    const refused = isRefused(answer.status, params.refused_statuses);
    observations.push({
      probe: `GET ${seen.mePath}?${parameter}=${JSON.stringify(seen.credential ?? null)} without Authorization`,
      expected: { status: params.refused_statuses },
      actual: answer.shown,
      ok: refused,
      note: refused
        ? 'a token in the URL is ignored'
        : `token accepted from the URL query ?${parameter}= (${answer.status})`,
    });
  }
  if (seen.unobserved !== undefined) return unobservedOutcome(seen.unobserved, observations);
  // Fail closed on a record that could not have passed: no baseline, or a query parameter never offered.
  if (seen.baselineStatus === undefined) {
    return unobservedOutcome('a working baseline: the real token was not presented', observations);
  }
  const offered = new Set(seen.inQuery.map((probe) => probe.parameter));
  const missing = params.query_parameters.filter((parameter) => !offered.has(parameter));
  if (missing.length > 0) {
    return unobservedOutcome(
      `a token in the URL query: ${missing.map((p) => `?${p}=`).join(', ')} not offered`,
      observations,
    );
  }
  return verdict(
    observations,
    'tokens only in bodies or protected cookies; none in a URL; a token in the query string is refused',
    brokenNotes(observations),
  );
}

/**
 * The query parameters the real token is offered in: the configured ones and the credential's own name, as a
 * service that reads the session id from the URL under the cookie's name (PHP's ?PHPSESSID=, URL rewriting
 * for cookieless clients) expects it; ?token= alone would never reach that code.
 */
export function offeredParameters(configured: readonly string[], credentialName: string): string[] {
  return [...new Set([...configured, credentialName])];
}

/** Logs in (and refreshes), then offers the real token in the query string: everything judgeTokenTransport needs. */
export async function probeTokenTransport(
  ctx: CheckContext,
  params: TokenTransportParams,
): Promise<TokenTransportSeen> {
  const client = createAuthClient(ctx);
  const seen: TokenTransportSeen = {
    mePath: client.mapping.me_path,
    steps: [],
    baselineStatus: undefined,
    credential: undefined,
    inQuery: [],
    unobserved: undefined,
  };
  const probe = resolveAccount(client.mapping, params.account);
  if (!probe) {
    seen.unobserved = `a token flow: the checklist gives no account ${params.account}`;
    return seen;
  }
  const parameters = offeredParameters(
    params.query_parameters,
    client.mapping.credential?.name ?? client.mapping.response_fields.access_token,
  );
  // One failure per token put in the query string, and a TOTP code's second use where the service refuses it.
  const route = { localAddress: await flowAddress(ctx, params.source_address, parameters.length + 1) };
  try {
    const pair = await client.obtainTokens(probe, route);
    const responses = [...pair.responses];
    if (pair.refreshToken) {
      const refreshed = await client.refresh(pair.refreshToken, route);
      responses.push({ step: 'refresh', response: refreshed.response });
    }
    const secretsSeen = [pair.accessToken, pair.refreshToken].filter((value): value is string => Boolean(value));
    const carries = (text: string): boolean => secretsSeen.some((secret) => text.includes(secret));
    seen.steps = responses.map(({ step, response }) => ({
      step,
      locations: headerValues(response, 'location').map((location) => ({
        shown: ctx.secrets.redact(location),
        carriesCredential: carries(location),
      })),
      cookies: headerValues(response, 'set-cookie').map((cookie) => {
        const [nameValue = ''] = cookie.split(';');
        return {
          name: nameValue.split('=')[0]?.trim() ?? '',
          attributes: ctx.secrets.redact(cookie.split(';').slice(1).join(';').trim()),
          carriesCredential: carries(nameValue),
          clears: parseSetCookie(cookie)?.expired ?? false,
        };
      }),
    }));
    seen.credential = ctx.secrets.fingerprint(pair.accessToken);
    const header = await client.getWithCredential(client.mapping.me_path, pair.accessToken, route);
    seen.baselineStatus = header.status;
    // Refusals measured against a token that does not work prove nothing: the judge says so.
    if (!is2xx(header.status)) return seen;
    for (const parameter of parameters) {
      const url = client.url(client.mapping.me_path);
      url.searchParams.set(parameter, pair.accessToken);
      const response = await ctx.http.request(url, {
        headers: { accept: 'application/json' },
        localAddress: route.localAddress,
      });
      seen.inQuery.push({ parameter, answer: seenAnswer(ctx, response) });
    }
  } catch (error) {
    seen.unobserved = unobservedWhat(ctx, 'token transport', error);
  }
  return seen;
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
  params: tokenTransportParams,
  strength: { query_parameters: 'verified', refused_statuses: 'accepted' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [`account:${params.account}`],
  async run(ctx, params) {
    return judgeTokenTransport(await probeTokenTransport(ctx, params), params);
  },
});
