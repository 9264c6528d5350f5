/**
 * An HTTP request whose failure is data, not an exception. Checks must tell a
 * refused connection (sometimes the secure answer, e.g. no plain-HTTP
 * listener) from a timeout or a TLS failure (never a verdict), so every
 * network error is classified here once, by its code, rather than by each
 * check matching error messages.
 */
import { errorMessage } from '../engine/errors.js';
import type { SourceAddressPool } from '../engine/source-addresses.js';
import type { HttpProbe, HttpRequestOptions, HttpResponse } from '../engine/types.js';

export type HttpFailureKind = 'refused' | 'timeout' | 'tls' | 'reset' | 'aborted' | 'other';

export interface HttpFailure {
  kind: HttpFailureKind;
  /** The error code when there is one (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT, CERT_HAS_EXPIRED …). */
  code: string | undefined;
  message: string;
}

export type HttpAttempt =
  | { response: HttpResponse; failure?: undefined }
  | { response?: undefined; failure: HttpFailure };

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TLS_CODE_PATTERN = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|HOSTNAME|ALTNAME/;

/** The error's code, or its cause's (undici sometimes wraps the socket error). */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // undici sometimes wraps the socket error.
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined || cause === error ? undefined : errorCode(cause);
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** Pure: turns whatever the HTTP client threw into a failure kind. */
export function classifyHttpFailure(error: unknown): HttpFailure {
  const code = errorCode(error);
  const name = errorName(error);
  const message = errorMessage(error);
  let kind: HttpFailureKind = 'other';
  if (code === 'ECONNREFUSED') kind = 'refused';
  else if (name === 'TimeoutError' || (code !== undefined && TIMEOUT_CODES.has(code))) kind = 'timeout';
  else if (code !== undefined && TLS_CODE_PATTERN.test(code)) kind = 'tls';
  else if (code !== undefined && RESET_CODES.has(code)) kind = 'reset';
  else if (name === 'AbortError' || code === 'UND_ERR_ABORTED') kind = 'aborted';
  return { kind, code, message };
}

/** Sends one request; a network failure comes back classified instead of thrown. */
export async function attemptRequest(
  probe: HttpProbe,
  url: string | URL,
  options: HttpRequestOptions = {},
): Promise<HttpAttempt> {
  try {
    return { response: await probe.request(url, options) };
  } catch (error) {
    return { failure: classifyHttpFailure(error) };
  }
}

/** One line for summaries: `timeout (UND_ERR_CONNECT_TIMEOUT)`. */
export function describeFailure(failure: HttpFailure): string {
  return failure.code ? `${failure.kind} (${failure.code})` : `${failure.kind}: ${failure.message}`;
}

/** `GET https://host:8443/health`: how observations name a request. */
export function describeRequest(method: string, url: string | URL): string {
  return `${method.toUpperCase()} ${url.toString()}`;
}

/** A target-relative URL: `path` may carry a query string. */
export function targetUrl(base: string, path: string): URL {
  return new URL(path, base);
}

/**
 * A request the target may count as an authentication failure (a forged or
 * missing credential, a bad body, a path that does not exist): it goes out
 * from the run's source-address pool, so that no address of the gate gets
 * near the service's IP-block threshold. The pool throws when it is
 * exhausted or an address is already blocked: that is the check's error.
 */
export async function attemptFailureRequest(
  ctx: { http: HttpProbe; addresses: SourceAddressPool },
  url: URL,
  options: HttpRequestOptions = {},
): Promise<HttpAttempt> {
  const localAddress = await ctx.addresses.forFailure();
  return attemptRequest(ctx.http, url, { ...options, ...(localAddress ? { localAddress } : {}) });
}
