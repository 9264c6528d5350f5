import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { createAuthClient, describeResponse, resolveAccount } from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, fingerprintJson, isRefused, verdict } from '../outcome.js';
import { accountParam, flowAddress, flowSourceAddressParam, refusedStatusesParam } from './params.js';

export default defineCheck({
  id: 'auth.refresh-rotation',
  title: 'A refresh token works once; its reuse is refused and revokes the session',
  source: 'control A8 (docs/controls.md#A8): Refresh tokens rotate',
  docs: 'docs/controls.md#A8',
  remediation:
    'Rotate the refresh token on every use, remember used tokens, and on reuse refuse the request and revoke the whole session (its newer refresh and access tokens).',
  rationale: 'A stolen refresh token must be usable at most once, and its reuse is the signal that it was stolen.',
  effects: 'none',
  severity: 'high',
  params: z
    .object({
      source_address: flowSourceAddressParam.describe(
        "the address the flow comes from; unset: one from the run's pool (target.source_addresses)",
      ),
      account: accountParam('probe_account').describe('the account that logs in (with its TOTP)'),
      refused_statuses: refusedStatusesParam,
      expect_access_revoked: z
        .boolean()
        .default(false)
        .describe(
          'also require the rotated access token to stop working after reuse (services with stateless access tokens may not)',
        ),
    })
    .strict(),
  strength: { expect_access_revoked: 'requirement', refused_statuses: 'accepted' },
  probeAddresses: (params) => [params.source_address],
  requires: (params) => [`account:${params.account}`],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    if (!probe) return errorOutcome(ctx, `a session: the checklist gives no account ${params.account}`, undefined);
    // Two failures: the reused refresh token and the newer one it revokes.
    const route = { localAddress: await flowAddress(ctx, params.source_address, 2) };
    const observations: Observation[] = [];
    const field = client.mapping.refresh.token_field;
    try {
      const pair = await client.obtainTokens(probe, route);
      if (!pair.refreshToken) {
        return errorOutcome(
          ctx,
          `a refresh token: the login gave no "${client.mapping.response_fields.refresh_token}" field`,
          undefined,
        );
      }
      const first = pair.refreshToken;
      const rotated = await client.refresh(first, route);
      if (!rotated.accessToken || !rotated.refreshToken) {
        return errorOutcome(ctx, 'a first refresh: a fresh refresh token was not exchanged for new tokens', undefined, [
          {
            probe: `POST ${client.mapping.refresh.path} with a fresh ${field}`,
            actual: describeResponse(ctx, rotated.response),
          },
        ]);
      }
      const second = rotated.refreshToken;
      observations.push({
        probe: `POST ${client.mapping.refresh.path} with the fresh ${field} ${JSON.stringify(ctx.secrets.fingerprint(first))}`,
        expected: 'a new token pair with a different refresh token',
        actual: { status: rotated.response.status, refresh_token: fingerprintJson(ctx, second) },
        ok: second !== first,
        note:
          second !== first
            ? 'the refresh token rotated'
            : 'refresh token not rotated: the same refresh token came back',
      });

      const reuse = await client.refresh(first, route);
      const reuseRefused = isRefused(reuse.response.status, params.refused_statuses) && !reuse.accessToken;
      observations.push({
        probe: `POST ${client.mapping.refresh.path} again with the already used ${field}`,
        expected: { status: params.refused_statuses, tokens: 'none' },
        actual: describeResponse(ctx, reuse.response),
        ok: reuseRefused,
        note: reuseRefused
          ? 'reuse refused'
          : `reused refresh token accepted (${reuse.response.status}): a stolen refresh token stays usable`,
      });

      const afterReuse = await client.refresh(second, route);
      const newerRevoked = isRefused(afterReuse.response.status, params.refused_statuses) && !afterReuse.accessToken;
      observations.push({
        probe: `POST ${client.mapping.refresh.path} with the newer ${field} after the reuse`,
        expected: { status: params.refused_statuses },
        actual: describeResponse(ctx, afterReuse.response),
        ok: newerRevoked,
        note: newerRevoked
          ? 'the session was revoked'
          : `session not revoked: the newer refresh token still works after the old one was reused (${afterReuse.response.status})`,
      });

      const access = await client.getWithCredential(client.mapping.me_path, rotated.accessToken, route);
      const accessRevoked = isRefused(access.status, params.refused_statuses);
      observations.push({
        probe: `GET ${client.mapping.me_path} with the newer access token after the reuse`,
        expected: params.expect_access_revoked ? { status: params.refused_statuses } : 'context only',
        actual: { status: access.status },
        ...(params.expect_access_revoked ? { ok: accessRevoked } : {}),
        note: accessRevoked
          ? 'the newer access token was revoked with the session'
          : `newer access token still accepted (${access.status}) until it expires`,
      });
    } catch (error) {
      return errorOutcome(ctx, 'refresh rotation', error, observations);
    }
    return verdict(
      observations,
      'refresh tokens rotate, reuse is refused and revokes the session',
      brokenNotes(observations),
    );
  },
});
