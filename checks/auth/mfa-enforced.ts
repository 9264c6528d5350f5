/**
 * auth.mfa-enforced: no credential of any shape without a verified second
 * factor. A password-only login may answer "enrol MFA first" in its body and
 * still hand out a session cookie, a token in a header or in another field;
 * so whatever the password step handed out — for an account without MFA, and
 * for the TOTP account before its second step — is presented on a protected
 * path, and a 2xx there is a failure. A challenge is no bearer token and
 * works once.
 */
import { z } from 'zod';
import { type CheckContext, defineCheck, type Observation } from '../../src/engine/types.js';
import {
  type AuthClient,
  createAuthClient,
  credentialsHandedOut,
  describeResponse,
  type PresentedCredential,
  type RequestRoute,
  resolveAccount,
  totpCode,
} from '../../src/probes/auth-client.js';
import { type CookieJar, createCookieJar } from '../../src/probes/cookie-jar.js';
import { brokenNotes, errorOutcome, fingerprintJson, isRefused, verdict } from '../outcome.js';
import { accountParam, flowAddress, flowSourceAddressParam, refusedStatusesParam } from './params.js';

const PRESENTED_EXPECTATION = 'not 2xx: nothing from the password step alone is a session';

/**
 * Presents each handed-out credential on the protected path; an observation
 * per credential, failing on a 2xx (`failure` says what that means).
 */
async function presentEach(
  ctx: CheckContext,
  client: AuthClient,
  credentials: readonly PresentedCredential[],
  route: RequestRoute,
  failure: (credential: PresentedCredential, status: number) => string,
): Promise<Observation[]> {
  const responses = await Promise.all(
    credentials.map((credential) => client.getWith(client.mapping.me_path, credential, route)),
  );
  return credentials.map((credential, index) => {
    const response = responses[index];
    const accepted = response !== undefined && response.status >= 200 && response.status < 300;
    return {
      probe: `GET ${client.mapping.me_path} with ${credential.label}`,
      expected: PRESENTED_EXPECTATION,
      actual: response ? describeResponse(ctx, response) : null,
      ok: !accepted,
      note: accepted ? failure(credential, response.status) : 'not a session',
    };
  });
}

/**
 * Every cookie the client holds after the password step, sent together as a
 * browser would: an anonymous session the password step quietly bound to the
 * user is a session before MFA, even though the login answer set no cookie.
 */
function heldCookies(jar: CookieJar, client: AuthClient): PresentedCredential[] {
  const cookies = jar.all(client.url(client.mapping.login.path));
  if (cookies.length === 0) return [];
  return [
    {
      label: `every cookie the client holds after the password step (${cookies.map((cookie) => cookie.name).join(', ')})`,
      headers: { cookie: cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') },
    },
  ];
}

export default defineCheck({
  id: 'auth.mfa-enforced',
  title: 'No access token without a verified second factor; an MFA challenge is no bearer token and works once',
  source: 'control A1 (docs/controls.md#A1): MFA is enforced for every account',
  docs: 'docs/controls.md#A1',
  remediation:
    'Issue tokens only after a verified TOTP (or WebAuthn) step for every account; answer a login of an account without a verified device with an enrolment requirement, never a token; make challenge tokens single-use and refuse them as bearer tokens.',
  rationale: 'Optional MFA is skipped by exactly the high-value accounts attackers want.',
  effects: 'none',
  severity: 'critical',
  params: z
    .object({
      source_address: flowSourceAddressParam.describe(
        "the address the flows come from; unset: one from the run's pool (target.source_addresses)",
      ),
      account: accountParam('probe_account').describe(
        'the account with TOTP enrolled, whose password step must hand out nothing but a challenge',
      ),
      no_mfa_account: accountParam('no_mfa_account').describe('the account without a verified second factor'),
      refused_statuses: refusedStatusesParam,
    })
    .strict(),
  strength: { refused_statuses: 'accepted' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [`account:${params.no_mfa_account}`, `account:${params.account}`],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    const noMfa = resolveAccount(client.mapping, params.no_mfa_account);
    if (!noMfa) {
      return errorOutcome(ctx, `MFA enforcement: the checklist gives no account ${params.no_mfa_account}`, undefined);
    }
    if (!probe?.totp_secret) {
      return errorOutcome(
        ctx,
        `the MFA challenge: the checklist gives no account ${params.account} with a totp_secret`,
        undefined,
      );
    }
    // About three failures: the challenge as a bearer token, its replay, a refresh it should not buy.
    const route = { localAddress: await flowAddress(ctx, params.source_address, 3) };
    const observations: Observation[] = [];
    try {
      const noMfaLogin = await client.login(noMfa.username, noMfa.password, route);
      observations.push({
        probe: `POST ${client.mapping.login.path} as ${noMfa.username} (no verified second factor) with the correct password`,
        expected: { access_token: 'absent' },
        actual: {
          access_token: noMfaLogin.accessToken ? fingerprintJson(ctx, noMfaLogin.accessToken) : 'absent',
          response: describeResponse(ctx, noMfaLogin.response),
        },
        ok: !noMfaLogin.accessToken,
        note: noMfaLogin.accessToken
          ? `MFA optional: ${noMfa.username} has no second factor and got an access token from the password alone (${noMfaLogin.response.status})`
          : 'no token without a second factor',
      });

      // Anything else the password-only login handed out (cookie, header, other field) must not be a session.
      const handedOut = credentialsHandedOut(ctx, noMfaLogin.response, [noMfaLogin.accessToken ?? '']);
      observations.push(
        ...(await presentEach(
          ctx,
          client,
          handedOut,
          route,
          (credential, status) =>
            `MFA optional: ${noMfa.username} has no second factor and got a session from the password alone: ${credential.label} answered ${status} on ${client.mapping.me_path}`,
        )),
      );
      if (noMfaLogin.refreshToken) {
        const refreshed = await client.refresh(noMfaLogin.refreshToken, route);
        observations.push({
          probe: `POST ${client.mapping.refresh.path} with the refresh token ${noMfa.username} got from the password alone`,
          expected: { access_token: 'absent' },
          actual: describeResponse(ctx, refreshed.response),
          ok: !refreshed.accessToken,
          note: refreshed.accessToken
            ? `MFA optional: the refresh token ${noMfa.username} got from the password alone buys an access token`
            : 'the refresh token buys nothing',
        });
      }

      // A jar of its own: a cookie service's pre-auth state (an anonymous session, the CSRF token) lives there.
      const jar = createCookieJar();
      const login = await client.login(probe.username, probe.password, { ...route, jar });
      if (login.accessToken) {
        observations.push({
          probe: `POST ${client.mapping.login.path} as ${probe.username} (TOTP enrolled)`,
          expected: { mfa_challenge: 'present', access_token: 'absent' },
          actual: describeResponse(ctx, login.response),
          ok: false,
          note: `MFA skipped: ${probe.username} got an access token from the password alone`,
        });
        return verdict(observations, '', brokenNotes(observations));
      }
      if (!login.mfaChallenge) {
        return errorOutcome(ctx, `an MFA challenge for ${probe.username}`, undefined, [
          ...observations,
          {
            probe: `POST ${client.mapping.login.path} as ${probe.username}`,
            actual: describeResponse(ctx, login.response),
          },
        ]);
      }
      const challenge = login.mfaChallenge;
      // The password step may hand out nothing that works before the second factor.
      observations.push(
        ...(await presentEach(
          ctx,
          client,
          [...credentialsHandedOut(ctx, login.response, [challenge]), ...heldCookies(jar, client)],
          route,
          (credential, status) =>
            `session before MFA: ${credential.label} from the password step of ${probe.username} answered ${status} on ${client.mapping.me_path} before the second factor`,
        )),
      );
      const asBearer = await client.getWithCredential(client.mapping.me_path, challenge, route);
      const bearerRefused = isRefused(asBearer.status, params.refused_statuses);
      observations.push({
        probe: `GET ${client.mapping.me_path} with the MFA challenge ${JSON.stringify(ctx.secrets.fingerprint(challenge))} as bearer token`,
        expected: { status: params.refused_statuses },
        actual: describeResponse(ctx, asBearer),
        ok: bearerRefused,
        note: bearerRefused
          ? 'a challenge is not an access token'
          : `MFA challenge accepted as a bearer token (${asBearer.status}): the second factor can be skipped`,
      });

      const code = totpCode(probe.totp_secret, ctx.clock.now());
      const first = await client.verifyMfa(challenge, code, route);
      if (!first.accessToken) {
        return errorOutcome(ctx, `a token pair for ${probe.username} with the current TOTP code`, undefined, [
          ...observations,
          { probe: `POST ${client.mapping.mfa_verify.path}`, actual: describeResponse(ctx, first.response) },
        ]);
      }
      observations.push({
        probe: `POST ${client.mapping.mfa_verify.path} with the challenge and the current TOTP code`,
        actual: { status: first.response.status, access_token: fingerprintJson(ctx, first.accessToken) },
        note: 'password plus TOTP yields a token, as it should',
      });
      const replay = await client.verifyMfa(challenge, code, route);
      observations.push({
        probe: `POST ${client.mapping.mfa_verify.path} again with the same challenge`,
        expected: { access_token: 'absent' },
        actual: describeResponse(ctx, replay.response),
        ok: !replay.accessToken,
        note: replay.accessToken
          ? `MFA challenge reusable: its second use yielded another access token (${replay.response.status})`
          : 'the challenge is single-use',
      });
    } catch (error) {
      return errorOutcome(ctx, 'the MFA flow', error, observations);
    }
    const presented = observations.filter((observation) => observation.expected === PRESENTED_EXPECTATION).length;
    return verdict(
      observations,
      `${noMfa.username} got no access token without a second factor, and none of the ${presented} other values the password steps handed out worked as a session; the challenge was refused as a bearer token and after one use`,
      brokenNotes(observations),
    );
  },
});
