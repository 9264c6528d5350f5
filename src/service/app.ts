/**
 * The Fastify application. The request lifecycle, in order:
 *
 *   onRequest  1. IP block — a blocked address gets 403 before any other work, and a
 *                 credential check (login, MFA code) runs only if admitted under the
 *                 IP-block threshold (auth/admission.ts); every refusal is audited
 *              2. CORS — configured origins only, never reflected, never `*`
 *              3. API documentation paths — 404
 *              4. authentication — every path but /health and the public auth
 *                 endpoints needs a valid bearer token; decided by path before
 *                 any body is parsed, so unknown paths answer 401, not 404
 *   parsing    application/json only (415 otherwise), 16 KiB at most (413)
 *   validation JSON schema per route, additionalProperties: false (400)
 *   onSend     security headers on every response, errors included
 *   onResponse one structured log line (no headers, no bodies, no query strings)
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type AdmittedCheck, CredentialAdmissions } from './auth/admission.js';
import { recordFailure } from './auth/failures.js';
import { blockedAddressCheck } from './auth/ip-blocks.js';
import { liveSession } from './auth/sessions.js';
import { verifyAccessToken } from './auth/tokens.js';
import { isStorableText } from './db/text.js';
import type { Principal, ServiceDeps } from './deps.js';
import {
  allowedOrigin,
  CORS_ALLOWED_HEADERS,
  CORS_ALLOWED_METHODS,
  clientAddress,
  isApiDocumentationPath,
  isCredentialRoute,
  isPublicRoute,
  normaliseIp,
  SECURITY_HEADERS,
  STORABLE_TEXT_FORMAT,
} from './http-policy.js';
import { pathOnly } from './log.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerResourceRoutes } from './routes/resources.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** Set by the IP gate on credential routes: the check the route may run. */
    admission: AdmittedCheck | null;
  }
}

export const BODY_LIMIT_BYTES = 16 * 1024;

export const UNAUTHORIZED = { error: 'unauthorized', message: 'A valid bearer token is required' };
export const IP_BLOCKED = { error: 'ip_blocked', message: 'Requests from this address are blocked' };
const NOT_FOUND = { error: 'not_found', message: 'No such resource' };
const NO_CLIENT_ADDRESS = { error: 'bad_request', message: 'The request carries no usable client address' };

export interface TlsSettings {
  key: string;
  cert: string;
}

export interface AppOptions {
  /** TLS material; omitted in reverse-proxy mode (plain HTTP on loopback). */
  tls?: TlsSettings;
  /** Proxy addresses whose X-Forwarded-For is trusted (reverse-proxy mode only). */
  trustedProxies?: string[];
}

/** ECDHE key exchange with AEAD ciphers only (TLS 1.3 suites are all AEAD). */
export const TLS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

function requestId(request: { headers: Record<string, string | string[] | undefined> }): string {
  const offered = request.headers['x-request-id'];
  return typeof offered === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(offered) ? offered : randomUUID();
}

export function buildApp(deps: ServiceDeps, options: AppOptions = {}): FastifyInstance {
  const app = Fastify({
    ...(options.tls
      ? {
          https: {
            key: options.tls.key,
            cert: options.tls.cert,
            minVersion: 'TLSv1.2' as const,
            ciphers: TLS_CIPHERS,
            honorCipherOrder: true,
          },
        }
      : {}),
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: options.trustedProxies && options.trustedProxies.length > 0 ? options.trustedProxies : false,
    genReqId: requestId,
    requestTimeout: 30_000,
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Reject unknown fields instead of silently dropping them; never coerce types.
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
        formats: { [STORABLE_TEXT_FORMAT]: isStorableText },
      },
    },
  }) as unknown as FastifyInstance;

  app.decorateRequest('principal', null);
  app.decorateRequest('admission', null);
  // JSON is the only accepted body type: anything else answers 415.
  app.removeContentTypeParser(['text/plain']);

  const reportFailure = (
    request: FastifyRequest,
    eventType: 'expired_token' | 'invalid_token',
    detail: string,
    username: string | null = null,
  ) =>
    recordFailure(deps.pool, deps.policy, {
      eventType,
      username,
      ipAddress: normaliseIp(request.ip),
      method: request.method,
      path: pathOnly(request.url),
      detail,
    });

  const rejectToken = async (
    request: FastifyRequest,
    reply: FastifyReply,
    eventType: 'expired_token' | 'invalid_token',
    detail: string,
  ) => {
    await reportFailure(request, eventType, detail);
    return reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
  };

  // 1. IP block: the first hook, before any other work.
  const isBlocked = blockedAddressCheck(deps.pool);
  const admissions = new CredentialAdmissions(deps.pool, deps.policy);
  app.addHook('onRequest', async (request, reply) => {
    const ipAddress = clientAddress(request.ip);
    if (ipAddress === undefined) {
      deps.logger.warn('http.request.no_client_address', { request_id: request.id, path: pathOnly(request.url) });
      return reply.code(400).send(NO_CLIENT_ADDRESS);
    }
    const facts = { ipAddress, method: request.method, path: pathOnly(request.url) };
    if (await isBlocked(facts)) return reply.code(403).send(IP_BLOCKED);
    if (!isCredentialRoute(facts.method, facts.path)) return;
    const admission = await admissions.admit(facts);
    if (!admission) return reply.code(403).send(IP_BLOCKED);
    request.admission = admission;
    // A request that ends before its route begins the check (a rejected body, a client gone) gives it back.
    reply.raw.once('close', () => admission.abandon());
  });

  // 2. CORS.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('vary', 'Origin');
    const origin = allowedOrigin(request.headers.origin, deps.corsOrigins);
    if (origin) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', 'X-Request-ID');
    }
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      // A preflight from a foreign origin gets no CORS headers, so the browser refuses the real request.
      if (origin) {
        reply.header('access-control-allow-methods', CORS_ALLOWED_METHODS);
        reply.header('access-control-allow-headers', CORS_ALLOWED_HEADERS);
        reply.header('access-control-max-age', '600');
      }
      return reply.code(204).send();
    }
  });

  // 3. API documentation does not exist.
  app.addHook('onRequest', async (request, reply) => {
    if (isApiDocumentationPath(pathOnly(request.url))) return reply.code(404).send(NOT_FOUND);
  });

  // 4. Central authentication by path.
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOnly(request.url);
    if (isPublicRoute(request.method, path)) return;
    const header = request.headers.authorization;
    if (header === undefined) return rejectToken(request, reply, 'invalid_token', 'missing_token');
    const bearer = BEARER.exec(header);
    if (!bearer?.[1]) return rejectToken(request, reply, 'invalid_token', 'malformed_authorization');
    const verdict = await verifyAccessToken(deps.keys, deps.tokens, bearer[1]);
    if (!verdict.ok) {
      return rejectToken(
        request,
        reply,
        verdict.reason === 'expired' ? 'expired_token' : 'invalid_token',
        verdict.reason === 'expired' ? 'access_token_expired' : 'access_token_invalid',
      );
    }
    const session = await liveSession(deps.pool, verdict.claims.session_id, verdict.claims.sub);
    if (!session) return rejectToken(request, reply, 'invalid_token', 'session_revoked_or_expired');
    request.principal = { ...session, sessionId: verdict.claims.session_id };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    reply.header('x-request-id', request.id);
    reply.removeHeader('x-powered-by');
    reply.removeHeader('server');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    deps.logger.info('http.request.completed', {
      request_id: request.id,
      method: request.method,
      path: pathOnly(request.url),
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
      client_ip: clientAddress(request.ip) ?? null,
    });
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send(NOT_FOUND));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = httpAnswerForError(error);
    if (status >= 500) {
      // Name and code only: messages of low-level errors can quote request data.
      deps.logger.error('http.request.failed', {
        request_id: request.id,
        path: pathOnly(request.url),
        error_name: error.name,
        error_code: typeof error.code === 'string' ? error.code : null,
      });
    }
    return reply.code(status).send(body);
  });

  app.get('/health', async (_request, reply) => {
    try {
      await deps.pool.query('SELECT 1');
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
    return deps.insecureDevMode ? { status: 'ok', insecure_dev_mode: true } : { status: 'ok' };
  });

  registerAuthRoutes(app, deps);
  registerResourceRoutes(app, deps);
  return app;
}

/** Maps any error to a stable JSON body; never a stack, never a raw message of an unexpected error. */
export function httpAnswerForError(error: FastifyError): { status: number; body: { error: string; message: string } } {
  if (error.validation) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    return {
      status: 400,
      body: { error: 'invalid_request', message: `${where} ${first?.message ?? 'is invalid'}`.slice(0, 200) },
    };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return { status: 415, body: { error: 'unsupported_media_type', message: 'Only application/json is accepted' } };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { error: 'payload_too_large', message: `The body exceeds ${BODY_LIMIT_BYTES} bytes` },
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { error: 'malformed_json', message: 'The body is not valid JSON' } };
  }
  if (isDatabaseOverload(error)) {
    // Not a fault of the request nor of the service's code: the database could not take the work in time.
    return { status: 503, body: { error: 'unavailable', message: 'The service is busy; retry shortly' } };
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 401) return { status, body: UNAUTHORIZED };
  if (status >= 400 && status < 500) {
    // Fastify's own 4xx messages describe the request shape, not its content; keep them generic anyway.
    return {
      status,
      body: { error: status === 400 ? 'bad_request' : 'request_rejected', message: 'The request was rejected' },
    };
  }
  return { status: 500, body: { error: 'internal_error', message: 'The request could not be completed' } };
}

/**
 * PostgreSQL cancelled a statement on its timeout (57014), refused a connection for lack of slots
 * (53300, 57P03), or the pool found no free connection in time: a busy service, answered 503.
 */
const OVERLOAD_SQLSTATES = new Set(['57014', '53300', '57P03']);
function isDatabaseOverload(error: { code?: unknown; message?: unknown }): boolean {
  if (typeof error.code === 'string' && OVERLOAD_SQLSTATES.has(error.code)) return true;
  return typeof error.message === 'string' && error.message.startsWith('timeout exceeded when trying to connect');
}
