import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { createAuthClient, describeResponse, totpCode } from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, fingerprintJson, isRefused, verdict } from './outcome.js';
import { refusedStatusesParam, sourceAddressParam } from './params.js';

export default defineCheck({
  id: 'auth.mfa-enforced',
  title: 'No access token without a verified second factor; an MFA challenge is no bearer token and works once',
  source: 'seed 002, checklist item 5',
  remediation:
    'Issue tokens only after a verified TOTP (or WebAuthn) step for every account; answer a login of an account without a verified device with an enrolment requirement, never a token; make challenge tokens single-use and refuse them as bearer tokens.',
  rationale: 'Optional MFA is skipped by exactly the high-value accounts attackers want.',
  effects: 'none',
  params: z
    .object({
      source_address: sourceAddressParam('127.0.0.15'),
      refused_statuses: refusedStatusesParam,
    })
    .strict(),
  requires: () => ['auth.no_mfa_account'],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const { probe_account: probe, no_mfa_account: noMfa } = client.mapping;
    if (!noMfa) return errorOutcome(ctx, 'MFA enforcement: the checklist gives no auth.no_mfa_account', undefined);
    if (!probe?.totp_secret) {
      return errorOutcome(
        ctx,
        'the MFA challenge: the checklist gives no auth.probe_account with a totp_secret',
        undefined,
      );
    }
    const route = { localAddress: params.source_address ?? undefined };
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

      const login = await client.login(probe.username, probe.password, route);
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
      const asBearer = await client.getWithBearer(client.mapping.me_path, challenge, route);
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
    return verdict(
      observations,
      `${noMfa.username} got no token without a second factor; the challenge was refused as a bearer token and after one use`,
      brokenNotes(observations),
    );
  },
});
