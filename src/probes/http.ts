/**
 * HTTP(S) probe on undici. Never follows redirects (a redirect is evidence),
 * trusts exactly the configured CA when one is given, can bind the client
 * socket to a chosen loopback address, and bounds both time and body size.
 */
import type { Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { errorMessage } from '../engine/errors.js';
import type { HttpProbe, HttpRequestOptions, HttpResponse } from '../engine/types.js';
import { errorCode } from './http-attempt.js';

export interface HttpProbeOptions {
  /** PEM trust anchor; when absent, Node's default CA store is used. */
  caPem?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function createHttpProbe(options: HttpProbeOptions): HttpProbe & { close(): Promise<void> } {
  const agents = new Map<string, Agent>();
  // Every socket we open, so that close() can destroy even one stuck in a TLS handshake,
  // which undici's Agent does not track until the handshake completes.
  const sockets = new Set<Socket>();
  // One secure context for every connection of the run: given `ca`, Node builds a new one per connection
  // (parsing the trust anchor's PEM each time), which was a tenth of a whole gate's CPU.
  const secureContext = options.caPem ? createSecureContext({ ca: options.caPem }) : undefined;
  const makeAgent = (localAddress: string | undefined): Agent => {
    const connector = buildConnector({
      ...(secureContext ? { secureContext } : {}),
      rejectUnauthorized: true,
      ...(localAddress ? { localAddress } : {}),
      timeout: options.timeoutMs,
    });
    return new Agent({
      // undici hands the Agent's own localAddress to the connector, overriding the connector's.
      ...(localAddress ? { localAddress } : {}),
      connect: (connectOptions, callback) => {
        const socket = connector(connectOptions, callback) as unknown as Socket | undefined;
        if (socket) {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
        }
        return socket;
      },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      // Distinct-IP probes must not reuse a connection opened from another address.
      pipelining: 1,
    });
  };
  const agentFor = (localAddress: string | undefined): Agent => {
    const key = localAddress ?? '';
    let agent = agents.get(key);
    if (!agent) {
      agent = makeAgent(localAddress);
      agents.set(key, agent);
    }
    return agent;
  };

  /** One exchange on `agent`, raced against the signals (see below). */
  const exchangeOn = async (
    target: string | URL,
    requestOptions: HttpRequestOptions,
    agent: Agent,
    signal: AbortSignal,
  ): Promise<HttpResponse> => {
    const exchange = send(target, requestOptions, agent, signal);
    // undici does not honour the signal while a TLS handshake is pending, so a peer that
    // accepts TCP and never answers would hold the check forever: race the signal ourselves.
    // The abandoned socket is destroyed when the probe is closed.
    exchange.catch(() => {});
    const cancelled = rejectWhenAborted(signal);
    try {
      return await Promise.race([exchange, cancelled.promise]);
    } finally {
      cancelled.dispose();
    }
  };

  /** A connection of its own for one exchange, closed after it: never a pooled one the peer may have closed. */
  const exchangeOnFreshConnection = async (
    target: string | URL,
    requestOptions: HttpRequestOptions,
    signal: AbortSignal,
  ): Promise<HttpResponse> => {
    const agent = makeAgent(requestOptions.localAddress);
    try {
      return await exchangeOn(target, requestOptions, agent, signal);
    } finally {
      await agent.destroy().catch(() => {});
    }
  };

  return {
    async request(target: string | URL, requestOptions: HttpRequestOptions = {}): Promise<HttpResponse> {
      const timeoutMs = requestOptions.timeoutMs ?? options.timeoutMs;
      const signals = [AbortSignal.timeout(timeoutMs)];
      if (options.signal) signals.push(options.signal);
      if (requestOptions.signal) signals.push(requestOptions.signal);
      const signal = AbortSignal.any(signals);
      if (requestOptions.freshConnection) return exchangeOnFreshConnection(target, requestOptions, signal);
      try {
        return await exchangeOn(target, requestOptions, agentFor(requestOptions.localAddress), signal);
      } catch (error) {
        const closed = closedWithoutAnswer(requestOptions, error);
        if (!closed || signal.aborted) throw error;
        // A pooled keep-alive connection the peer (or a proxy before it) closed as the request went out:
        // an idempotent-safe request is sent once more on a fresh connection, and the answer says so.
        const response = await exchangeOnFreshConnection(target, requestOptions, signal);
        return {
          ...response,
          retried: `the first attempt's connection closed without an answer (${closed}); sent once more on a fresh connection`,
        };
      }
    },
    async close() {
      // destroy, not close: after a run nothing may stay in flight, and a hung request must not hold the exit.
      await Promise.all([...agents.values()].map((agent) => agent.destroy()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      agents.clear();
    },
  };
}

/** Methods a client may repeat without changing anything on the server (RFC 9110 §9.2.1), without a body. */
const IDEMPOTENT_SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A connection closed before any answer: undici's "other side closed", a reset, a broken pipe. */
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);

/**
 * Pure: why a failed exchange may be sent again on a fresh connection (its
 * error code and message), or undefined when it may not: only a safe method
 * without a body, and only a connection closed without an answer. A refused
 * connection, a timeout or a TLS failure is never retried: each is evidence.
 */
export function closedWithoutAnswer(requestOptions: HttpRequestOptions, error: unknown): string | undefined {
  const method = (requestOptions.method ?? 'GET').toUpperCase();
  if (!IDEMPOTENT_SAFE.has(method) || requestOptions.body !== undefined) return undefined;
  const code = errorCode(error);
  if (code === undefined || !CLOSED_CODES.has(code)) return undefined;
  return `${code}: ${errorMessage(error)}`;
}

/** First value of a header, whatever its multiplicity. */
export function headerValue(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

async function send(
  target: string | URL,
  requestOptions: HttpRequestOptions,
  dispatcher: Agent,
  signal: AbortSignal,
): Promise<HttpResponse> {
  const started = performance.now();
  const url = typeof target === 'string' ? new URL(target) : target;
  // The dispatcher's own request: undici's top-level request() would parse the target into a URL again.
  const response = await dispatcher.request({
    origin: url.origin,
    path: requestOptions.requestTarget ?? `${url.pathname}${url.search}`,
    method: (requestOptions.method ?? 'GET') as 'GET',
    headers: requestOptions.headers ?? {},
    body: requestOptions.body ?? null,
    signal,
  });
  const maxBytes = requestOptions.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const chunks: Buffer[] = [];
  let received = 0;
  let truncated = false;
  for await (const chunk of response.body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (received + buffer.length > maxBytes) {
      // Keep exactly the first maxBytes, and say that the rest was not read.
      chunks.push(buffer.subarray(0, maxBytes - received));
      truncated = true;
      response.body.destroy();
      break;
    }
    received += buffer.length;
    chunks.push(buffer);
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  return {
    status: response.statusCode,
    headers,
    body: Buffer.concat(chunks).toString('utf8'),
    bodyTruncated: truncated,
    elapsedMs: performance.now() - started,
  };
}

/** Rejects with the signal's reason: a TimeoutError for deadlines, an AbortError otherwise. */
function rejectWhenAborted(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let fail = () => {};
  const promise = new Promise<never>((_, reject) => {
    fail = () => {
      const reason: unknown = signal.reason;
      if (reason instanceof Error && (reason.name === 'TimeoutError' || reason.name === 'AbortError')) reject(reason);
      else
        reject(
          new DOMException(`request aborted (${reason instanceof Error ? reason.message : 'cancelled'})`, 'AbortError'),
        );
    };
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener('abort', fail) };
}
