import { z } from 'zod';
import { defineCheck, type Observation } from '../../src/engine/types.js';
import { createAuthClient, describeResponse, type RequestRoute } from '../../src/probes/auth-client.js';
import {
  decodeJwt,
  elevatedPayload,
  foreignKeyToken,
  hmacToken,
  type JwtPayload,
  publicKeyPemOf,
  signedToken,
  tamperedToken,
  unsignedToken,
  WELL_KNOWN_SECRETS,
} from '../../src/probes/auth-tokens.js';
import { brokenNotes, errorOutcome, isRefused, verdict } from './outcome.js';
import { refusedStatusesParam, sourceAddress } from './params.js';

interface Forgery {
  name: string;
  token: string;
}

export default defineCheck({
  id: 'auth.token-validation',
  title: 'Only tokens the service signed, unexpired and complete, are accepted',
  source: 'seed 002, checklist item 13; seed 000, item 2',
  remediation:
    'Verify tokens with an explicit algorithm allow-list (RS256 or EdDSA), never `none`, never HMAC with the public key; sign with a strong secret or key loaded from the environment; require exp and the other mandatory claims.',
  rationale: 'A forged or expired token that is accepted is a bypass of every other control.',
  effects: 'none',
  params: z
    .object({
      /** Forged tokens spread over these addresses so the rejections stay under the IP-block threshold; [] = unbound. */
      source_addresses: z.array(sourceAddress).default(['127.0.0.16', '127.0.0.17', '127.0.0.18']),
      refused_statuses: refusedStatusesParam,
      weak_secrets: z.array(z.string().min(1)).default([...WELL_KNOWN_SECRETS]),
      /** ctx.env variable with the service's test signing key (PEM, or the secret for HS*): enables expired and missing-claim tokens. */
      signing_key_env: z.string().min(1).optional(),
      /** ctx.env variable with the service's public key (PEM), for the HMAC key-confusion probe. */
      public_key_env: z.string().min(1).optional(),
      signing_alg: z.string().min(2).optional(),
      /** Claims whose absence must make a token invalid (with a signing key). */
      required_claims: z.array(z.string().min(1)).default(['exp', 'sub']),
    })
    .strict(),
  requires: () => ['auth.probe_account'],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const probe = client.mapping.probe_account;
    if (!probe) return errorOutcome(ctx, 'a real token: the checklist gives no auth.probe_account', undefined);
    const routeFor = (index: number): RequestRoute => ({
      localAddress: params.source_addresses[index % Math.max(params.source_addresses.length, 1)],
    });
    const observations: Observation[] = [];
    try {
      const pair = await client.obtainTokens(probe, routeFor(0));
      const real = decodeJwt(pair.accessToken);
      const valid = await client.getWithBearer(client.mapping.me_path, pair.accessToken, routeFor(0));
      observations.push({
        probe: `GET ${client.mapping.me_path} with the probe's real token ${JSON.stringify(ctx.secrets.fingerprint(pair.accessToken))}`,
        expected: { status: '2xx' },
        actual: describeResponse(ctx, valid),
        note: 'the baseline: a genuine token works',
      });
      if (valid.status < 200 || valid.status > 299) {
        return errorOutcome(
          ctx,
          `a working baseline: the real token got ${valid.status} on ${client.mapping.me_path}`,
          undefined,
          observations,
        );
      }
      if (!real) return errorOutcome(ctx, 'the token claims: the access token is not a JWT', undefined, observations);
      const alg = params.signing_alg ?? String(real.header.alg);
      const signingKey = params.signing_key_env ? ctx.env[params.signing_key_env] : undefined;
      // The key is a secret like any other: scrubbed from everything the run writes.
      if (signingKey) ctx.secrets.register(signingKey);
      const publicKey =
        (params.public_key_env ? ctx.env[params.public_key_env] : undefined) ??
        (signingKey && !alg.startsWith('HS') ? publicKeyPemOf(signingKey) : undefined);

      const forgeries: Forgery[] = [
        { name: 'alg: none with the real claims', token: unsignedToken(real.payload) },
        {
          name: 'payload tampered (privilege raised), original signature',
          token: tamperedToken(real, elevatedPayload(real.payload)),
        },
      ];
      try {
        forgeries.push({
          name: `${alg} signed with a key the service never issued`,
          token: await foreignKeyToken(real.payload, real.header, alg),
        });
      } catch {
        // An algorithm jose cannot generate keys for: the other forgeries still run, and the evidence says so.
        observations.push({
          probe: `${alg} signed with a foreign key`,
          note: `not tried: no ${alg} key can be generated`,
        });
      }
      if (publicKey) {
        forgeries.push({
          name: 'HS256 signed with the service public key',
          token: await hmacToken(real.payload, publicKey),
        });
      }
      for (const secret of params.weak_secrets) {
        forgeries.push({
          name: `HS256 signed with well-known secret "${secret}"`,
          token: await hmacToken(real.payload, secret),
        });
      }
      if (signingKey) {
        const nowSeconds = Math.floor(ctx.clock.now().getTime() / 1000);
        forgeries.push({
          name: 'expired an hour ago, signed with the service key',
          token: await signedToken(
            { ...real.payload, iat: nowSeconds - 7_200, exp: nowSeconds - 3_600 },
            real.header,
            alg,
            signingKey,
          ),
        });
        for (const claim of params.required_claims) {
          const payload: JwtPayload = { ...real.payload };
          delete payload[claim];
          forgeries.push({
            name: `missing claim "${claim}", signed with the service key`,
            token: await signedToken(payload, real.header, alg, signingKey),
          });
        }
      }
      for (const forgery of forgeries) ctx.secrets.register(forgery.token);

      const responses = await Promise.all(
        forgeries.map((forgery, index) => client.getWithBearer(client.mapping.me_path, forgery.token, routeFor(index))),
      );
      forgeries.forEach((forgery, index) => {
        const response = responses[index];
        if (!response) return;
        const refused = isRefused(response.status, params.refused_statuses);
        observations.push({
          probe: `GET ${client.mapping.me_path} with a token: ${forgery.name}`,
          expected: { status: params.refused_statuses },
          actual: describeResponse(ctx, response),
          ok: refused,
          note: refused ? 'refused' : `forged token accepted: ${forgery.name} got ${response.status}`,
        });
      });
      if (!publicKey) {
        observations.push({
          probe: 'HS256 signed with the service public key',
          note: 'not tried: no public key (with.public_key_env) and no asymmetric signing key given',
        });
      }
      if (!signingKey) {
        observations.push({
          probe: 'expired and missing-claim tokens',
          note: 'not tried: no test signing key (with.signing_key_env); expiry is then unproven by this check',
        });
      }
    } catch (error) {
      return errorOutcome(ctx, 'token validation', error, observations);
    }
    const tried = observations.filter((observation) => observation.ok !== undefined).length;
    return verdict(
      observations,
      `all ${tried} forged, tampered or expired tokens were refused`,
      brokenNotes(observations),
    );
  },
});
