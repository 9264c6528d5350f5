/**
 * Protected routes. Authentication has already happened in the central
 * onRequest hook (by path, before any parsing); handlers only read the
 * principal it set.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { revokeSession } from '../auth/sessions.js';
import type { Principal, ServiceDeps } from '../deps.js';
import { STORABLE_TEXT_FORMAT } from '../http-policy.js';

/** Defence in depth: a protected handler without a principal is a wiring bug, answered as 401. */
export class MissingPrincipalError extends Error {
  readonly statusCode = 401;
  constructor() {
    super('no authenticated principal on a protected route');
    this.name = 'MissingPrincipalError';
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new MissingPrincipalError();
  return request.principal;
}

const noteSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'body', 'created_at'],
  properties: { id: { type: 'string' }, body: { type: 'string' }, created_at: { type: 'string' } },
} as const;

export function registerResourceRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.post('/api/v1/auth/logout', async (request, reply) => {
    await revokeSession(deps.pool, principalOf(request).sessionId, 'logout');
    return reply.code(204).send();
  });

  app.get(
    '/api/v1/users/me',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'username', 'role', 'mfa_enabled'],
            properties: {
              id: { type: 'string' },
              username: { type: 'string' },
              role: { type: 'string' },
              mfa_enabled: { type: 'boolean' },
            },
          },
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      // Sessions exist only after MFA verification, so every authenticated caller has MFA.
      return { id: principal.userId, username: principal.username, role: principal.role, mfa_enabled: true };
    },
  );

  app.get(
    '/api/v1/notes',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['notes'],
            properties: { notes: { type: 'array', items: noteSchema } },
          },
        },
      },
    },
    async (request) => {
      const result = await deps.pool.query<{ id: string; body: string; created_at: Date }>(
        'SELECT id, body, created_at FROM notes WHERE user_id = $1 ORDER BY id DESC LIMIT 100',
        [principalOf(request).userId],
      );
      return {
        notes: result.rows.map((row) => ({ id: row.id, body: row.body, created_at: row.created_at.toISOString() })),
      };
    },
  );

  app.post<{ Body: { body: string } }>(
    '/api/v1/notes',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['body'],
          properties: { body: { type: 'string', minLength: 1, maxLength: 2000, format: STORABLE_TEXT_FORMAT } },
        },
        response: { 201: noteSchema },
      },
    },
    async (request, reply) => {
      const result = await deps.pool.query<{ id: string; body: string; created_at: Date }>(
        'INSERT INTO notes (user_id, body) VALUES ($1, $2) RETURNING id, body, created_at',
        [principalOf(request).userId, request.body.body],
      );
      const row = result.rows[0];
      if (!row) throw new Error('note insert returned no row');
      return reply.code(201).send({ id: row.id, body: row.body, created_at: row.created_at.toISOString() });
    },
  );
}
