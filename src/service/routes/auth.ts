/**
 * The public auth endpoints: login, MFA verification and refresh. Every
 * rejection records exactly one failure row before answering, and every
 * credential rejection answers the same 401 body, whatever the reason.
 * Login and MFA verification run only with the admission the IP gate gave
 * them (auth/admission.ts), and settle it: a failure row takes it with it, a
 * success gives it back.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdmittedCheck } from '../auth/admission.js';
import { type FailureReport, recordFailure } from '../auth/failures.js';
import { verifyPassword } from '../auth/passwords.js';
import { isLocked } from '../auth/policy.js';
import {
  consumeMfaChallenge,
  createMfaChallenge,
  createSession,
  MFA_CHALLENGE_TTL_SECONDS,
  rotateRefreshToken,
} from '../auth/sessions.js';
import { issueAccessToken } from '../auth/tokens.js';
import { matchingStep } from '../auth/totp.js';
import { isStorableText } from '../db/text.js';
import type { ServiceDeps } from '../deps.js';
import { normaliseIp } from '../http-policy.js';
import { pathOnly } from '../log.js';

export const INVALID_CREDENTIALS = { error: 'invalid_credentials', message: 'Invalid username, password or code' };
export const INVALID_REFRESH = { error: 'invalid_token', message: 'The refresh token is invalid or expired' };
export const MFA_ENROLLMENT_REQUIRED = {
  error: 'mfa_enrollment_required',
  message: 'This account has no verified second factor; an administrator must enrol one before it can sign in',
};

const tokenPairSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['access_token', 'refresh_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string' },
    refresh_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
  },
} as const;

export const loginSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['username', 'password'],
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 128 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['mfa_required', 'mfa_challenge_id', 'expires_in'],
      properties: {
        mfa_required: { type: 'boolean' },
        mfa_challenge_id: { type: 'string' },
        expires_in: { type: 'integer' },
      },
    },
  },
} as const;

export const mfaVerifySchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['mfa_challenge_id', 'code'],
    properties: {
      mfa_challenge_id: { type: 'string', minLength: 1, maxLength: 256 },
      code: { type: 'string', minLength: 1, maxLength: 16 },
    },
  },
  response: { 200: tokenPairSchema },
} as const;

export const refreshSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['refresh_token'],
    properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 256 } },
  },
  response: { 200: tokenPairSchema },
} as const;

/** The admission of this credential check; without one no check runs (fail closed). */
function beginCheck(request: FastifyRequest): AdmittedCheck {
  const admission = request.admission;
  if (!admission?.begin()) throw new Error('a credential check without an admission from the IP gate');
  return admission;
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: string;
  is_active: boolean;
  locked_until: Date | null;
  now: Date;
}

export function registerAuthRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  const fail = async (
    request: FastifyRequest,
    reply: FastifyReply,
    report: Omit<FailureReport, 'ipAddress' | 'method' | 'path'>,
    status = 401,
    body: object = INVALID_CREDENTIALS,
  ) => {
    await recordFailure(deps.pool, deps.policy, {
      ...report,
      ipAddress: normaliseIp(request.ip),
      method: request.method,
      path: pathOnly(request.url),
      ...(request.admission ? { admissionId: request.admission.admissionId } : {}),
    });
    request.admission?.settledByFailure();
    return reply.code(status).send(body);
  };

  const loadUser = async (column: 'username' | 'id', value: string): Promise<UserRow | undefined> => {
    const result = await deps.pool.query<UserRow>(
      `SELECT id, username, password_hash, role, is_active, locked_until, clock_timestamp() AS now
         FROM users WHERE ${column === 'id' ? 'id = $1::bigint' : 'username = $1'}`,
      [value],
    );
    return result.rows[0];
  };

  const hasVerifiedTotp = async (userId: string): Promise<boolean> => {
    const result = await deps.pool.query(
      `SELECT 1 FROM mfa_devices WHERE user_id = $1 AND kind = 'totp' AND verified_at IS NOT NULL LIMIT 1`,
      [userId],
    );
    return (result.rowCount ?? 0) > 0;
  };

  app.post<{ Body: { username: string; password: string } }>(
    '/api/v1/auth/login',
    { schema: loginSchema },
    async (request, reply) => {
      const { username, password } = request.body;
      const check = beginCheck(request);
      // A name PostgreSQL cannot hold as sent (NUL, an unpaired surrogate) belongs to no account.
      const representable = isStorableText(username);
      const user = representable ? await loadUser('username', username) : undefined;
      // Always hash: an unknown user costs the same as a wrong password.
      const passwordMatches = await verifyPassword(password, user?.password_hash);
      if (!user) {
        return fail(request, reply, {
          eventType: 'unknown_user',
          username,
          ...(representable ? {} : { detail: 'username_not_representable' }),
        });
      }
      if (!user.is_active) return fail(request, reply, { eventType: 'locked_account', username, detail: 'inactive' });
      if (!passwordMatches) {
        return fail(request, reply, { eventType: 'bad_password', username, lockoutUserId: user.id });
      }
      // Re-read the lock after hashing: a concurrent failure may have locked the account meanwhile.
      const current = await loadUser('id', user.id);
      if (!current || isLocked({ lockedUntil: current.locked_until }, current.now)) {
        return fail(request, reply, { eventType: 'locked_account', username, detail: 'correct_password_while_locked' });
      }
      if (!(await hasVerifiedTotp(user.id))) {
        // MFA is mandatory: no token and no challenge without a verified device.
        return fail(
          request,
          reply,
          { eventType: 'bad_totp', username, detail: 'mfa_not_enrolled' },
          403,
          MFA_ENROLLMENT_REQUIRED,
        );
      }
      const challenge = await createMfaChallenge(deps.pool, user.id);
      await check.release();
      return reply.send({ mfa_required: true, mfa_challenge_id: challenge, expires_in: MFA_CHALLENGE_TTL_SECONDS });
    },
  );

  app.post<{ Body: { mfa_challenge_id: string; code: string } }>(
    '/api/v1/auth/mfa/verify',
    { schema: mfaVerifySchema },
    async (request, reply) => {
      const check = beginCheck(request);
      const verdict = await consumeMfaChallenge(deps.pool, request.body.mfa_challenge_id);
      if (!verdict.ok) {
        const user = verdict.userId ? await loadUser('id', verdict.userId) : undefined;
        return fail(request, reply, {
          eventType: verdict.reason === 'expired' ? 'expired_token' : 'invalid_token',
          username: user?.username ?? null,
          detail: verdict.reason === 'expired' ? 'mfa_challenge_expired' : 'mfa_challenge_unknown_or_used',
        });
      }
      const user = await loadUser('id', verdict.userId);
      if (!user?.is_active) {
        return fail(request, reply, {
          eventType: 'locked_account',
          username: user?.username ?? null,
          detail: 'inactive',
        });
      }
      const devices = await deps.pool.query<{ id: string; secret: string }>(
        `SELECT id, secret FROM mfa_devices WHERE user_id = $1 AND verified_at IS NOT NULL`,
        [user.id],
      );
      const device = devices.rows[0];
      const step = device ? matchingStep(device.secret, request.body.code) : undefined;
      if (!device || step === undefined) {
        return fail(request, reply, { eventType: 'bad_totp', username: user.username, lockoutUserId: user.id });
      }
      if (deps.rejectTotpReuse) {
        // One statement claims the step: of any number of concurrent uses of one code, exactly one claims it.
        const claimed = await deps.pool.query(
          `UPDATE mfa_devices SET last_used_step = $2
            WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2) RETURNING id`,
          [device.id, step],
        );
        if (claimed.rowCount === 0) {
          return fail(request, reply, {
            eventType: 'bad_totp',
            username: user.username,
            lockoutUserId: user.id,
            detail: 'totp_code_reused',
          });
        }
      }
      // Success resets the consecutive-failure counter, unless the account got locked meanwhile (atomic).
      const reset = await deps.pool.query(
        `UPDATE users SET failed_login_count = 0, first_failed_at = NULL, updated_at = clock_timestamp()
          WHERE id = $1 AND is_active AND (locked_until IS NULL OR locked_until <= clock_timestamp())`,
        [user.id],
      );
      if (reset.rowCount === 0) {
        return fail(request, reply, { eventType: 'locked_account', username: user.username, detail: 'locked' });
      }
      if (!deps.rejectTotpReuse) {
        await deps.pool.query(
          'UPDATE mfa_devices SET last_used_step = greatest(coalesce(last_used_step, 0), $2) WHERE id = $1',
          [device.id, step],
        );
      }
      const session = await createSession(deps.pool, deps.sessions, user.id, normaliseIp(request.ip));
      const accessToken = await issueAccessToken(deps.keys, deps.tokens, {
        sub: user.id,
        role: user.role,
        session_id: session.sessionId,
      });
      const pair = {
        access_token: accessToken,
        refresh_token: session.refreshToken,
        token_type: 'Bearer',
        expires_in: deps.tokens.accessTokenTtlSeconds,
      };
      await check.release();
      return reply.send(pair);
    },
  );

  app.post<{ Body: { refresh_token: string } }>(
    '/api/v1/auth/refresh',
    { schema: refreshSchema },
    async (request, reply) => {
      const verdict = await rotateRefreshToken(deps.pool, deps.sessions, request.body.refresh_token);
      if (!verdict.ok) {
        return fail(
          request,
          reply,
          {
            eventType: verdict.reason === 'expired' ? 'expired_token' : 'invalid_token',
            username: verdict.username ?? null,
            detail: `refresh_${verdict.reason}`,
          },
          401,
          INVALID_REFRESH,
        );
      }
      const accessToken = await issueAccessToken(deps.keys, deps.tokens, {
        sub: verdict.userId,
        role: verdict.role,
        session_id: verdict.sessionId,
      });
      return reply.send({
        access_token: accessToken,
        refresh_token: verdict.refreshToken,
        token_type: 'Bearer',
        expires_in: deps.tokens.accessTokenTtlSeconds,
      });
    },
  );
}
