/**
 * HTTP(S) probe on undici. Never follows redirects (a redirect is evidence),
 * trusts exactly the configured CA when one is given, can bind the client
 * socket to a chosen loopback address, and bounds both time and body size.
 */
import { Agent, request } from 'undici';
import type { HttpProbe, HttpRequestOptions, HttpResponse } from '../engine/types.js';

export interface HttpProbeOptions {
  /** PEM trust anchor; when absent, Node's default CA store is used. */
  caPem?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function createHttpProbe(options: HttpProbeOptions): HttpProbe & { close(): Promise<void> } {
  const agents = new Map<string, Agent>();
  const agentFor = (localAddress: string | undefined): Agent => {
    const key = localAddress ?? '';
    let agent = agents.get(key);
    if (!agent) {
      agent = new Agent({
        connect: {
          ...(options.caPem ? { ca: options.caPem } : {}),
          rejectUnauthorized: true,
          ...(localAddress ? { localAddress } : {}),
        },
        connectTimeout: options.timeoutMs,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        // Distinct-IP probes must not reuse a connection opened from another address.
        pipelining: 1,
      });
      agents.set(key, agent);
    }
    return agent;
  };

  return {
    async request(target: string | URL, requestOptions: HttpRequestOptions = {}): Promise<HttpResponse> {
      const timeoutMs = requestOptions.timeoutMs ?? options.timeoutMs;
      const signals = [AbortSignal.timeout(timeoutMs)];
      if (options.signal) signals.push(options.signal);
      if (requestOptions.signal) signals.push(requestOptions.signal);
      const started = performance.now();
      const response = await request(target, {
        method: (requestOptions.method ?? 'GET') as 'GET',
        headers: requestOptions.headers ?? {},
        body: requestOptions.body ?? null,
        dispatcher: agentFor(requestOptions.localAddress),
        signal: AbortSignal.any(signals),
      });
      const maxBytes = requestOptions.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
      const chunks: Buffer[] = [];
      let received = 0;
      for await (const chunk of response.body) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        received += buffer.length;
        if (received > maxBytes) {
          response.body.destroy();
          break;
        }
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
        elapsedMs: performance.now() - started,
      };
    },
    async close() {
      await Promise.all([...agents.values()].map((agent) => agent.close()));
      agents.clear();
    },
  };
}

/** First value of a header, whatever its multiplicity. */
export function headerValue(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
