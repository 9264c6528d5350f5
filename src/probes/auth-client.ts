/**
 * A small client for a service's login / MFA / refresh flow, driven entirely by
 * the checklist's `auth:` mapping (paths, field names, response fields), so the
 * same checks verify the reference service and a service secgate did not build.
 * It only speaks HTTP through the context's probe; it judges nothing.
 */
import { Secret, TOTP } from 'otpauth';
import {
  type AccountConfig,
  AUTH_DEFAULTS,
  type AuthConfig,
  type CarrierConfig,
  type EventTypesConfig,
  REJECTION_PATHS,
  type RejectionPath,
} from '../engine/checklist/schema.js';
import type { CheckContext, HttpResponse, Json } from '../engine/types.js';
import { databaseNow, failureRowsOfAttempt } from './auth-audit.js';
import { type CookieJar, createCookieJar, parseSetCookie, type StoredCookie } from './cookie-jar.js';
import { closedWithoutAnswer } from './http.js';
import { type TotpClaim, totpLedger } from './totp-ledger.js';

export interface RequestRoute {
  /** Client socket address (e.g. 127.0.0.9), so the service sees a distinct IP. */
  localAddress?: string | undefined;
  headers?: Record<string, string>;
  /**
   * The probe session's cookies: sent with every request of the route, and every
   * Set-Cookie of its answers kept (a pre-auth cookie, a CSRF token, the session).
   */
  jar?: CookieJar | undefined;
  /** Send on a connection of its own (a retry proven safe). */
  freshConnection?: boolean;
}

export interface LoginAnswer {
  response: HttpResponse;
  accessToken: string | undefined;
  refreshToken: string | undefined;
  mfaRequired: boolean;
  mfaChallenge: string | undefined;
}

export interface TokenPair {
  /** The credential, wherever the mapping says it lives (a body field, a header, a session cookie). */
  accessToken: string;
  refreshToken: string | undefined;
  /** Every response of the flow, in order, for checks that inspect transport. */
  responses: { step: string; response: HttpResponse }[];
  /** The flow's cookie jar, holding the session (for logout and CSRF echo on later requests). */
  jar: CookieJar;
  /** The cookies the client held just before the credential was handed out: what a fixation would reuse. */
  cookiesBeforeCredential: StoredCookie[];
}

/** A flow step that did not go as the contract says; carries what was seen. */
/** A code of a TOTP step this run had spent was refused: the service refuses reuse; a new login will do. */
class SpentTotpRefused extends Error {}

export class AuthFlowError extends Error {
  constructor(
    message: string,
    readonly step: string,
    readonly response: HttpResponse | undefined,
  ) {
    super(message);
    this.name = 'AuthFlowError';
  }
}

/** The `auth:` mapping with its defaults, even when the checklist has no `auth:` section. */
export function authMapping(ctx: CheckContext): AuthConfig {
  return ctx.auth ?? AUTH_DEFAULTS;
}

/**
 * An account by the name a check's `account` parameter gives: `probe_account`,
 * `no_mfa_account`, or a name under `auth.accounts`.
 */
export function resolveAccount(mapping: AuthConfig, name: string): AccountConfig | undefined {
  if (name === 'probe_account') return mapping.probe_account;
  if (name === 'no_mfa_account') return mapping.no_mfa_account;
  return mapping.accounts[name];
}

/** The service's event-type values per rejection path: its own names, the checklist's, then a check's override. */
export function resolveEventTypes(
  mapping: AuthConfig,
  override: EventTypesConfig | undefined,
): Record<RejectionPath, string[]> {
  const merged: EventTypesConfig = { ...mapping.event_types, ...override };
  const values = (path: RejectionPath): string[] => {
    const kinds = merged[path] ?? path;
    return Array.isArray(kinds) ? kinds : [kinds];
  };
  return Object.fromEntries(REJECTION_PATHS.map((path) => [path, values(path)])) as Record<RejectionPath, string[]>;
}

/** The current TOTP code (RFC 6238, SHA-1, 6 digits, 30 s) for a base32 secret. */
export function totpCode(base32Secret: string, at: Date): string {
  return new TOTP({ secret: Secret.fromBase32(base32Secret), digits: 6, period: TOTP_STEP_MS / 1000 }).generate({
    timestamp: at.getTime(),
  });
}

const TOTP_STEP_MS = 30_000;

/** The current code of a fresh random secret: a well-formed code that no enrolled device gives. */
export function randomTotpCode(at: Date): string {
  return totpCode(new Secret({ size: 20 }).base32, at);
}

function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A non-empty string field of a JSON body (empty strings count as absent, as the seed's login returns ""). */
export function bodyToken(body: string, field: string): string | undefined {
  const value = parseJsonObject(body)?.[field];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const SHOWN_BODY_CHARS = 300;

/**
 * A response as evidence: status and a bounded body in which every secret the
 * run knows (passwords, tokens it obtained) is replaced by its fingerprint.
 */
export function describeResponse(ctx: CheckContext, response: HttpResponse): Json {
  const body = ctx.secrets.redact(response.body);
  return {
    status: response.status,
    body: body.length > SHOWN_BODY_CHARS ? `${body.slice(0, SHOWN_BODY_CHARS)}…` : body,
    ...(response.retried ? { retried: response.retried } : {}),
  };
}

export interface AuthClient {
  mapping: AuthConfig;
  url(path: string): URL;
  postJson(path: string, body: Record<string, string>, route?: RequestRoute): Promise<HttpResponse>;
  get(path: string, route?: RequestRoute): Promise<HttpResponse>;
  /** GET with the headers of a credential an answer handed out. */
  getWith(path: string, credential: PresentedCredential, route?: RequestRoute): Promise<HttpResponse>;
  /** A credential value as the mapping says it is presented: bearer token, the header it came in, or the session cookie. */
  presentCredential(value: string): PresentedCredential;
  /** GET with a credential value (real or forged), presented where the mapping says credentials go. */
  getWithCredential(path: string, value: string, route?: RequestRoute): Promise<HttpResponse>;
  /** POST auth.logout.path with the credential (and the route's jar, for CSRF). */
  logout(value: string, route?: RequestRoute): Promise<HttpResponse>;
  login(username: string, password: string, route?: RequestRoute): Promise<LoginAnswer>;
  verifyMfa(challenge: string, code: string, route?: RequestRoute): Promise<LoginAnswer>;
  /**
   * The account's current TOTP code with the challenge, as the run's TOTP ledger allows (totp-ledger.ts): a
   * step of its own where the service refuses a code's reuse. `spent`: the code's step was used before.
   */
  /**
   * A TOTP step of the run's ledger and the account's code for it, for a probe that sends the code itself;
   * it must `settle` the claim with what the answer says about the code.
   */
  claimTotp(account: AccountConfig): Promise<TotpClaim & { code: string }>;
  verifyWithLedger(
    account: AccountConfig,
    challenge: string,
    route?: RequestRoute,
  ): Promise<LoginAnswer & { spent: boolean; code: string }>;
  refresh(refreshToken: string, route?: RequestRoute): Promise<LoginAnswer>;
  /** Password, then TOTP when asked: a real token pair, or an AuthFlowError saying which step broke. */
  obtainTokens(account: AccountConfig, route?: RequestRoute): Promise<TokenPair>;
}

export function createAuthClient(ctx: CheckContext): AuthClient {
  const mapping = authMapping(ctx);
  const fields = mapping.response_fields;
  const url = (path: string): URL => new URL(path, ctx.target.url);

  /** Reads the answer's tokens and registers them, so no later output can carry them. */
  const readAnswer = (response: HttpResponse): LoginAnswer => {
    // A cut body parses as "no token": that must never read as "refused".
    if (response.bodyTruncated)
      throw new AuthFlowError(
        `the auth answer (${response.status}) is longer than the probe reads (1 MiB): its tokens cannot be judged`,
        'read the answer',
        response,
      );
    const accessToken = carriedValue(response, mapping.credential, fields.access_token);
    const refreshToken = bodyToken(response.body, fields.refresh_token);
    const mfaChallenge = carriedValue(response, mapping.mfa_challenge, fields.mfa_challenge);
    for (const token of [accessToken, refreshToken, mfaChallenge]) if (token) ctx.secrets.register(token);
    const mfaRequired =
      parseJsonObject(response.body)?.[fields.mfa_required] === true ||
      (mapping.mfa_challenge?.in !== undefined && mapping.mfa_challenge.in !== 'body' && mfaChallenge !== undefined);
    return { response, accessToken, refreshToken, mfaRequired, mfaChallenge };
  };

  /**
   * One request of a probe session: the jar's cookies go out (merged with any
   * the caller sets, which win), its answer's cookies are kept, and every
   * secret-looking cookie value is registered with the redactor.
   */
  const send = async (
    method: 'GET' | 'POST',
    path: string,
    route: RequestRoute,
    headers: Record<string, string>,
    body?: string,
  ): Promise<HttpResponse> => {
    const target = url(path);
    const cookie = mergeCookies(route.jar?.header(target), route.headers?.cookie);
    const response = await ctx.http.request(target, {
      method,
      headers: { ...headers, ...route.headers, ...(cookie ? { cookie } : {}) },
      ...(body === undefined ? {} : { body }),
      localAddress: route.localAddress,
      ...(route.freshConnection ? { freshConnection: true } : {}),
    });
    const setCookie = headerValues(response, 'set-cookie');
    for (const line of setCookie) {
      const value = parseSetCookie(line)?.value;
      if (value && TOKEN_SHAPED.test(value)) ctx.secrets.register(value);
    }
    route.jar?.store(target, setCookie);
    return response;
  };

  /**
   * The CSRF echo a browser page does: the token cookie sent back in the
   * header. A POST without a jar gets a jar of its own, so every request —
   * the failing logins of the lockout and timing checks too — passes the
   * CSRF layer and reaches the auth logic it is meant to exercise.
   */
  const csrfHeaders = async (
    route: RequestRoute,
  ): Promise<{ route: RequestRoute; headers: Record<string, string> }> => {
    const csrf = mapping.csrf;
    if (!csrf) return { route, headers: {} };
    const jar = route.jar ?? createCookieJar();
    const withJar = { ...route, jar };
    const probeUrl = url(mapping.login.path);
    if (!jar.get(probeUrl, csrf.cookie) && csrf.path)
      await send('GET', csrf.path, withJar, { accept: 'application/json' });
    const token = jar.get(probeUrl, csrf.cookie)?.value;
    return { route: withJar, headers: token ? { [csrf.header]: token } : {} };
  };

  /** An account at this service, as the run's TOTP ledger knows it. */
  const ledgerKey = (account: AccountConfig): string => `${url(mapping.login.path).origin} ${account.username}`;

  const client: AuthClient = {
    mapping,
    url,
    async postJson(path, body, route = {}) {
      const csrf = await csrfHeaders(route);
      return send(
        'POST',
        path,
        csrf.route,
        { 'content-type': 'application/json', accept: 'application/json', ...csrf.headers },
        JSON.stringify(body),
      );
    },
    get(path, route = {}) {
      return send('GET', path, route, { accept: 'application/json' });
    },
    getWith(path, credential, route = {}) {
      return client.get(path, { ...route, headers: { ...route.headers, ...credential.headers } });
    },
    presentCredential(value) {
      return presentAs(mapping.credential, fields.access_token, value);
    },
    getWithCredential(path, value, route = {}) {
      return client.getWith(path, client.presentCredential(value), route);
    },
    async logout(value, route = {}) {
      if (!mapping.logout) throw new AuthFlowError('the checklist gives no auth.logout.path', 'logout', undefined);
      const presented = client.presentCredential(value);
      return client.postJson(
        mapping.logout.path,
        {},
        { ...route, headers: { ...route.headers, ...presented.headers } },
      );
    },
    async login(username, password, route = {}) {
      const body = { [mapping.login.username_field]: username, [mapping.login.password_field]: password };
      // The database's clock before the attempt: the rows it may write are the ones from here on.
      const since = ctx.db ? await databaseNow(ctx.db).catch(() => undefined) : undefined;
      try {
        return readAnswer(await client.postJson(mapping.login.path, body, route));
      } catch (error) {
        // A login is not idempotent (it counts towards lockouts and blocks): sent again only when the
        // connection closed without an answer and the audit table shows the service never saw it.
        const closed = closedWithoutAnswer({}, error);
        if (!closed || !ctx.db || since === undefined || ctx.signal.aborted) throw error;
        const rows = await failureRowsOfAttempt(ctx.db, mapping, { username, ip: route.localAddress, since });
        if (rows > 0) throw error;
        const answer = readAnswer(await client.postJson(mapping.login.path, body, { ...route, freshConnection: true }));
        answer.response.retried = `the first attempt's connection closed without an answer (${closed}) and ${mapping.tables.failure_events} holds no row of it (${username}${route.localAddress ? ` from ${route.localAddress}` : ''} since ${since}): sent once more on a fresh connection`;
        return answer;
      }
    },
    async verifyMfa(challenge, code, route = {}) {
      const carrier = mapping.mfa_challenge?.in ?? 'body';
      const body: Record<string, string> = { [mapping.mfa_verify.code_field]: code };
      if (carrier === 'body') body[mapping.mfa_verify.challenge_field] = challenge;
      const presented =
        carrier === 'body' ? {} : presentAs(mapping.mfa_challenge, fields.mfa_challenge, challenge).headers;
      return readAnswer(
        await client.postJson(mapping.mfa_verify.path, body, {
          ...route,
          headers: { ...route.headers, ...presented },
        }),
      );
    },
    async refresh(refreshToken, route) {
      return readAnswer(
        await client.postJson(mapping.refresh.path, { [mapping.refresh.token_field]: refreshToken }, route),
      );
    },
    async claimTotp(account) {
      const claim = await totpLedger.claim(ledgerKey(account), ctx.clock, ctx.signal);
      try {
        return { ...claim, code: totpCode(account.totp_secret ?? '', claim.stepTime) };
      } catch (error) {
        claim.settle(undefined);
        throw error;
      }
    },
    async verifyWithLedger(account, challenge, route) {
      const claim = await totpLedger.claim(ledgerKey(account), ctx.clock, ctx.signal);
      let code: string;
      let answer: LoginAnswer;
      try {
        // Inside the try: a claim left unsettled (a secret that does not decode) would stall every later claim.
        code = totpCode(account.totp_secret ?? '', claim.stepTime);
        answer = await client.verifyMfa(challenge, code, route);
      } catch (error) {
        claim.settle(undefined);
        throw error;
      }
      claim.settle(Boolean(answer.accessToken));
      return { ...answer, spent: claim.spent, code };
    },
    async obtainTokens(account, givenRoute = {}) {
      try {
        return await obtainTokensOnce(account, givenRoute, false);
      } catch (error) {
        // A code of a step this run had spent, refused: the service refuses a code's reuse (the ledger now
        // knows). Once more, with a login of its own and a step of its own.
        if (error instanceof SpentTotpRefused) return obtainTokensOnce(account, givenRoute, true);
        throw error;
      }
    },
  };
  /** One login and, when asked, one second factor (obtainTokens tries again where a spent TOTP step was refused). */
  const obtainTokensOnce = async (
    account: AccountConfig,
    givenRoute: RequestRoute,
    lastTry: boolean,
  ): Promise<TokenPair> => {
    // One jar per probe session: the pre-auth cookie and the CSRF token stay with this flow only.
    const jar = givenRoute.jar ?? createCookieJar();
    const route = { ...givenRoute, jar };
    const responses: TokenPair['responses'] = [];
    let cookiesBeforeCredential = jar.all(url(mapping.login.path));
    const login = await client.login(account.username, account.password, route);
    responses.push({ step: 'login', response: login.response });
    if (login.accessToken) {
      return {
        accessToken: login.accessToken,
        refreshToken: login.refreshToken,
        responses,
        jar,
        cookiesBeforeCredential,
      };
    }
    if (!login.mfaChallenge) {
      throw new AuthFlowError(
        `login of ${account.username} gave neither a token nor an MFA challenge`,
        'login',
        login.response,
      );
    }
    if (!account.totp_secret) {
      throw new AuthFlowError(
        `login of ${account.username} asks for MFA but the checklist gives no totp_secret`,
        'login',
        login.response,
      );
    }
    cookiesBeforeCredential = jar.all(url(mapping.mfa_verify.path));
    const verified = await client.verifyWithLedger(account, login.mfaChallenge, route);
    responses.push({ step: 'mfa_verify', response: verified.response });
    if (!verified.accessToken && verified.spent && !lastTry) {
      throw new SpentTotpRefused(`${account.username}'s code of a TOTP step this run had used was refused`);
    }
    if (!verified.accessToken) {
      throw new AuthFlowError(
        `MFA verification of ${account.username} with the current TOTP code gave no access token`,
        'mfa_verify',
        verified.response,
      );
    }
    return {
      accessToken: verified.accessToken,
      refreshToken: verified.refreshToken,
      responses,
      jar,
      cookiesBeforeCredential,
    };
  };
  return client;
}

/** `a=1` and `b=2; a=3` → `a=3; b=2`: the caller's cookies replace the jar's of the same name. */
function mergeCookies(fromJar: string | undefined, explicit: string | undefined): string | undefined {
  if (!fromJar) return explicit;
  if (!explicit) return fromJar;
  const pairs = new Map<string, string>();
  for (const pair of [...fromJar.split(';'), ...explicit.split(';')]) {
    const trimmed = pair.trim();
    if (trimmed) pairs.set(trimmed.split('=', 1)[0] ?? trimmed, trimmed);
  }
  return [...pairs.values()].join('; ');
}

/** The value a carrier names in an answer: a body field, a header, or a cookie this very answer sets. */
function carriedValue(
  response: HttpResponse,
  carrier: CarrierConfig | undefined,
  bodyField: string,
): string | undefined {
  const name = carrier?.name ?? bodyField;
  switch (carrier?.in ?? 'body') {
    case 'body':
      return bodyToken(response.body, name);
    case 'header': {
      const value = headerValues(response, name.toLowerCase())[0]
        ?.replace(/^Bearer\s+/i, '')
        .trim();
      return value ? value : undefined;
    }
    case 'cookie': {
      const cookies = headerValues(response, 'set-cookie').map(parseSetCookie);
      const set = cookies.filter((cookie) => cookie?.name === name && !cookie.expired).at(-1);
      return set?.value;
    }
  }
}

/** How a value goes back to the service, per its carrier: a body credential is a bearer token. */
function presentAs(carrier: CarrierConfig | undefined, bodyField: string, value: string): PresentedCredential {
  const name = carrier?.name ?? bodyField;
  switch (carrier?.in ?? 'body') {
    case 'body':
      return { label: 'bearer token', headers: { authorization: `Bearer ${value}` } };
    case 'header':
      return { label: `header ${name}`, headers: { [name.toLowerCase()]: value } };
    case 'cookie':
      return { label: `cookie ${name}`, headers: { cookie: `${name}=${value}` } };
  }
}

/** One way to present something an answer handed out: the headers to send, and what it is (for evidence). */
export interface PresentedCredential {
  label: string;
  headers: Record<string, string>;
}

/** Long enough and without spaces: a session id, an opaque token or a JWT, not a message. */
const TOKEN_SHAPED = /^[A-Za-z0-9._~+/=-]{16,4096}$/;
/** Response headers that may carry a credential (besides Set-Cookie). */
const CREDENTIAL_HEADER = /token|auth|session|jwt|bearer|api-key/i;
/** Headers with those words that never carry one. */
const NOT_A_CREDENTIAL_HEADER = new Set(['www-authenticate', 'proxy-authenticate', 'authentication-info']);

function headerValues(response: HttpResponse, name: string): string[] {
  const value = response.headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Every string in a JSON body with the path it sits at (objects and arrays, a few levels deep). */
function stringFields(value: unknown, path: string, depth: number): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (depth === 0 || typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => stringFields(child, path ? `${path}.${key}` : key, depth - 1));
}

/** A value an auth answer handed out: where it came (a cookie, a header, a body field) and what it was. */
interface HandedOutValue {
  kind: 'cookie' | 'header' | 'body';
  /** The cookie's or header's name, or the body field's path. */
  name: string;
  /** The value itself (a header's without its Bearer prefix). */
  value: string;
  /** As it came: the cookie's `name=value` pair, the header's whole value. */
  raw: string;
}

/**
 * Every value an answer handed out that may be a credential, registered with
 * the run's redactor: every cookie it sets, token-shaped values of
 * credential-like headers and every token-shaped string of the JSON body
 * (`skip`ped values left out of the last two).
 */
function valuesHandedOut(ctx: CheckContext, response: HttpResponse, skip: ReadonlySet<string>): HandedOutValue[] {
  const found: HandedOutValue[] = [];
  const cookies = headerValues(response, 'set-cookie')
    .map((line) => line.split(';')[0]?.trim() ?? '')
    .filter((pair) => pair.includes('=') && !pair.endsWith('='));
  for (const cookie of cookies) {
    const [name = ''] = cookie.split('=', 1);
    found.push({ kind: 'cookie', name, value: cookie.slice(name.length + 1), raw: cookie });
  }
  for (const [name, values] of Object.entries(response.headers)) {
    if (!CREDENTIAL_HEADER.test(name) || NOT_A_CREDENTIAL_HEADER.has(name) || name === 'set-cookie') continue;
    for (const raw of Array.isArray(values) ? values : [values]) {
      const token = raw.replace(/^Bearer\s+/i, '').trim();
      if (TOKEN_SHAPED.test(token) && !skip.has(token)) found.push({ kind: 'header', name, value: token, raw });
    }
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    body = undefined;
  }
  for (const field of stringFields(body, '', 4)) {
    if (TOKEN_SHAPED.test(field.value) && !skip.has(field.value))
      found.push({ kind: 'body', name: field.path, value: field.value, raw: field.value });
  }
  for (const { value } of found) ctx.secrets.register(value);
  return found;
}

/**
 * Everything an auth answer handed out that could work as a credential, each
 * as it would be presented: every cookie it sets (alone, and all together),
 * a token-shaped value in a credential-like header (sent back in that header
 * and as a bearer token), and every token-shaped string in the JSON body (as
 * a bearer token). `except` are values that are known not to be credentials
 * (an MFA challenge, tested on its own). Each value is registered with the
 * run's redactor. It judges nothing: the caller presents them and decides.
 */
export function credentialsHandedOut(
  ctx: CheckContext,
  response: HttpResponse,
  except: readonly string[] = [],
): PresentedCredential[] {
  const found = valuesHandedOut(ctx, response, new Set(except.filter(Boolean)));
  const cookies = found.filter((value) => value.kind === 'cookie').map((cookie) => cookie.raw);
  const presented: PresentedCredential[] = found.flatMap(({ kind, name, value, raw }): PresentedCredential[] => {
    if (kind === 'cookie') return [{ label: `cookie ${name} from Set-Cookie`, headers: { cookie: raw } }];
    if (kind === 'body')
      return [{ label: `body field ${name}, as a bearer token`, headers: { authorization: `Bearer ${value}` } }];
    return [
      { label: `header ${name}, sent back as it came`, headers: { [name]: raw } },
      { label: `header ${name}, as a bearer token`, headers: { authorization: `Bearer ${value}` } },
    ];
  });
  if (cookies.length > 1)
    presented.splice(cookies.length, 0, { label: 'every cookie it set', headers: { cookie: cookies.join('; ') } });
  return presented;
}

/**
 * The token-shaped values an auth answer handed out (cookies, credential-like
 * headers, body fields; `except` left out), each once and named by where it
 * came: what may be a refresh token or a session id, to try as one.
 */
export function tokensHandedOut(
  ctx: CheckContext,
  response: HttpResponse,
  except: readonly string[] = [],
): { label: string; value: string }[] {
  const skip = new Set(except.filter(Boolean));
  const seen = new Set<string>();
  return valuesHandedOut(ctx, response, skip).flatMap(({ kind, name, value }) => {
    if (!TOKEN_SHAPED.test(value) || skip.has(value) || seen.has(value)) return [];
    seen.add(value);
    return [{ label: kind === 'body' ? `body field ${name}` : `${kind} ${name}`, value }];
  });
}

/** Random printable value for wrong passwords and unknown usernames (never a real credential). */
export function probeValue(prefix: string): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Buffer.from(bytes).toString('base64url')}`;
}

/** The cause of an error outcome: the auth step that went wrong, or the exception's class and message (nothing more). */
export function authFailureCause(error: unknown): string {
  if (error instanceof AuthFlowError) return `${error.step}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
