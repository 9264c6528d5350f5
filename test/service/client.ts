/**
 * Test client for the reference service: HTTPS with the service's CA, an
 * optional client address (127.0.0.x) per agent, JSON helpers, the full
 * login flow, and read access to the service's tables.
 */

import { Agent, request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { currentCode } from '../../src/service/auth/totp.js';
import { queryService, type ReferenceTarget, startReferenceTarget } from '../support/reference-service.js';

export { queryService };

export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: Record<string, unknown>;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  token?: string;
  /** Client socket address, e.g. 127.0.0.5, for a distinct client IP. */
  from?: string;
}

export interface ServiceClient {
  call(path: string, options?: CallOptions): Promise<Reply>;
  close(): Promise<void>;
}

export interface ServiceClientOptions {
  /** Connections per client address: a race test opens one per request so that all arrive at once. */
  connections?: number;
}

export function serviceClient(
  target: ReferenceTarget,
  baseUrl = target.service.httpsUrl,
  options: ServiceClientOptions = {},
): ServiceClient {
  const agents = new Map<string, Agent>();
  const agentFor = (from: string | undefined) => {
    const key = from ?? '';
    let agent = agents.get(key);
    if (!agent) {
      // undici takes localAddress at the top level; inside `connect` it is overridden (by null).
      agent = new Agent({
        connect: { ca: target.service.caPem },
        connections: options.connections ?? 64,
        ...(from ? { localAddress: from } : {}),
      });
      agents.set(key, agent);
    }
    return agent;
  };
  return {
    async call(path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      let body: string | Buffer | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const response = await request(new URL(path, baseUrl), {
        method: (options.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
        headers,
        body: body ?? null,
        dispatcher: agentFor(options.from),
      });
      const text = await response.body.text();
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      let json: Record<string, unknown> = {};
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        json = {};
      }
      return { status: response.statusCode, headers: flat, text, json };
    },
    async close() {
      await Promise.all([...agents.values()].map((agent) => agent.close()));
    },
  };
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

/** Password, then TOTP: the full login of the probe account. */
export async function loginWithMfa(client: ServiceClient, target: ReferenceTarget, from?: string): Promise<TokenPair> {
  const account = target.context.auth.probe_account;
  const first = await client.call('/api/v1/auth/login', {
    body: { username: account.username, password: account.password },
    ...(from ? { from } : {}),
  });
  if (first.status !== 200) throw new Error(`login answered ${first.status}: ${first.text}`);
  const second = await client.call('/api/v1/auth/mfa/verify', {
    body: { mfa_challenge_id: first.json.mfa_challenge_id, code: currentCode(account.totp_secret) },
    ...(from ? { from } : {}),
  });
  if (second.status !== 200) throw new Error(`mfa verify answered ${second.status}: ${second.text}`);
  return { access_token: String(second.json.access_token), refresh_token: String(second.json.refresh_token) };
}

export interface FailureRow extends Record<string, unknown> {
  event_type: string;
  username: string | null;
  ip_address: string;
  method: string;
  path: string;
  detail: string | null;
}

export function failureRows(target: ReferenceTarget): Promise<FailureRow[]> {
  return queryService<FailureRow>(
    target,
    'SELECT event_type, username, host(ip_address) AS ip_address, method, path, detail FROM auth_failure_events ORDER BY id',
  );
}

/**
 * Starts one reference service (on its own database) before the file's tests
 * and stops it, with its client, after them. `onStarted` hands the two to the
 * file; hooks the file registers afterwards run once the service is up.
 */
export function useReferenceService(
  onStarted: (service: { target: ReferenceTarget; client: ServiceClient }) => void,
  options?: Parameters<typeof startReferenceTarget>[0],
): void {
  let started: { target: ReferenceTarget; client: ServiceClient } | undefined;
  beforeAll(async () => {
    const target = await startReferenceTarget(options);
    started = { target, client: serviceClient(target) };
    onStarted(started);
  });
  afterAll(async () => {
    await started?.client.close();
    await started?.target.close();
  });
}
