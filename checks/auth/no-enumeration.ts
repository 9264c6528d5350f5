import { z } from 'zod';
import { defineCheck, type HttpResponse, type Observation } from '../../src/engine/types.js';
import { runCleanup } from '../../src/probes/auth-audit.js';
import { createAuthClient, probeValue, type RequestRoute, resolveAccount } from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, verdict } from './outcome.js';
import { accountParam, sourceAddress } from './params.js';

type SampleClass = 'unknown user' | 'wrong password' | 'locked account';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** How far apart the two medians may be: a fraction of the slower one, or a fixed floor for loopback noise. */
export interface TimingBound {
  max_difference_ratio: number;
  tolerance_ms: number;
}

export interface TimingAssessment {
  unknownMedian: number;
  wrongMedian: number;
  difference: number;
  bound: number;
  ok: boolean;
}

/**
 * The timing judge, pure: do unknown-user and wrong-password answers take the
 * same time? Medians, so a few slow samples (a GC pause, a busy machine) do not
 * decide; the bound is relative, so a machine that is slow for both classes
 * alike is not a difference. No samples in a class is never ok.
 */
export function assessTiming(
  samples: { unknownUserMs: readonly number[]; wrongPasswordMs: readonly number[] },
  bound: TimingBound,
): TimingAssessment {
  const unknownMedian = median(samples.unknownUserMs);
  const wrongMedian = median(samples.wrongPasswordMs);
  const difference = Math.abs(unknownMedian - wrongMedian);
  const allowed = Math.max(bound.tolerance_ms, bound.max_difference_ratio * Math.max(unknownMedian, wrongMedian));
  return { unknownMedian, wrongMedian, difference, bound: allowed, ok: difference <= allowed };
}

export default defineCheck({
  id: 'auth.no-enumeration',
  title: 'Unknown user, wrong password and locked account are indistinguishable by answer and by time',
  source: 'seed 002, the login and MFA flow (no enumeration) and checklist item 6',
  remediation:
    'Answer every login rejection with the identical status and body, and hash a dummy password for unknown users so the unknown-user path costs what a wrong password costs.',
  rationale: 'A distinguishable answer or a measurably faster path tells an attacker which usernames exist.',
  effects: 'locks-account',
  params: z
    .object({
      /** Timed samples per class (unknown user, wrong password). */
      samples: z.number().int().min(3).max(100).default(15),
      /** Samples against the locked account (compared by answer; timed for context). */
      locked_samples: z.number().int().min(1).max(50).default(3),
      /** The medians may differ by at most this fraction of the larger one … */
      max_difference_ratio: z.number().min(0).max(1).default(0.25),
      /** … or by this many milliseconds, whichever is larger (loopback noise). */
      tolerance_ms: z.number().min(0).max(1_000).default(5),
      lockout_attempts: z.number().int().min(2).max(50).default(5),
      /** Samples rotate over these addresses so they stay under the IP-block threshold; [] = unbound. */
      source_addresses: z
        .array(sourceAddress)
        .default([
          '127.0.0.20',
          '127.0.0.21',
          '127.0.0.22',
          '127.0.0.23',
          '127.0.0.24',
          '127.0.0.25',
          '127.0.0.26',
          '127.0.0.27',
        ]),
      health_path: z.string().regex(/^\//).default('/health'),
      /** The account whose wrong passwords are timed (and which gets locked). */
      account: accountParam('probe_account'),
      /**
       * Send each round's unknown-user and wrong-password samples at once (from two addresses): half the
       * wall time, same load on both. Set false for a service that hashes passwords one at a time.
       */
      concurrent_pairs: z.boolean().default(true),
    })
    .strict(),
  probeAddresses: (params) => params.source_addresses,
  requires: (params) => [`account:${params.account}`],
  async run(ctx, params) {
    const client = createAuthClient(ctx);
    const probe = resolveAccount(client.mapping, params.account);
    if (!probe)
      return errorOutcome(
        ctx,
        `the wrong-password and locked paths: the checklist gives no account ${params.account}`,
        undefined,
      );
    const unlockSql = client.mapping.cleanup?.unlock_account_sql;
    const canUnlock = Boolean(ctx.db && unlockSql);
    let requestIndex = 0;
    const nextRoute = (): RequestRoute => ({
      localAddress: params.source_addresses[requestIndex++ % Math.max(params.source_addresses.length, 1)],
    });
    const samples: Record<SampleClass, HttpResponse[]> = {
      'unknown user': [],
      'wrong password': [],
      'locked account': [],
    };
    const observations: Observation[] = [];
    let lockedProbe = false;
    try {
      // One connection per address first, so no sample pays for a TLS handshake.
      await Promise.all(
        (params.source_addresses.length ? params.source_addresses : [undefined]).map((localAddress) =>
          client.get(params.health_path, { localAddress }),
        ),
      );
      // Wrong passwords come in batches that stay below the lockout, unlocking in between when the checklist allows.
      const batch = params.lockout_attempts - 1;
      let wrongSinceUnlock = 0;
      lockedProbe = true;
      const takeSamples = async (rounds: number) => {
        for (let index = 0; index < rounds; index++) {
          if (wrongSinceUnlock === batch && canUnlock && ctx.db) {
            await ctx.db.query(unlockSql ?? '', [probe.username]);
            wrongSinceUnlock = 0;
          }
          const takeWrong = wrongSinceUnlock < batch;
          if (takeWrong) wrongSinceUnlock++;
          // Paired samples: one of each class per round, so drift in the target's load affects both alike.
          const unknownRequest = () => client.login(probeValue('secgate-unknown'), probeValue('wrong'), nextRoute());
          const wrongRequest = () => client.login(probe.username, probeValue('wrong'), nextRoute());
          if (params.concurrent_pairs && takeWrong) {
            const [unknown, wrong] = await Promise.all([unknownRequest(), wrongRequest()]);
            samples['unknown user'].push(unknown.response);
            samples['wrong password'].push(wrong.response);
          } else {
            samples['unknown user'].push((await unknownRequest()).response);
            if (takeWrong) samples['wrong password'].push((await wrongRequest()).response);
          }
        }
      };
      const judgeTiming = () =>
        assessTiming(
          {
            unknownUserMs: samples['unknown user'].map((response) => response.elapsedMs),
            wrongPasswordMs: samples['wrong password'].map((response) => response.elapsedMs),
          },
          params,
        );
      await takeSamples(params.samples);
      // A load spike on a shared machine can skew one batch; a real difference survives a second
      // batch of the same size, judged together with the first.
      if (!judgeTiming().ok) await takeSamples(params.samples);
      for (let sent = wrongSinceUnlock; sent < params.lockout_attempts; sent++) {
        await client.login(probe.username, probeValue('wrong'), nextRoute());
      }
      for (let index = 0; index < params.locked_samples; index++) {
        samples['locked account'].push((await client.login(probe.username, probeValue('wrong'), nextRoute())).response);
      }

      const variants = new Map<string, { status: number; body: string; classes: Record<string, number> }>();
      for (const [sampleClass, responses] of Object.entries(samples)) {
        for (const response of responses) {
          // Every body is whole: the auth client refuses a cut answer (AuthFlowError) before it gets here.
          const key = `${response.status}\n${response.body}`;
          const variant = variants.get(key) ?? {
            status: response.status,
            body: ctx.secrets.redact(response.body).slice(0, 200),
            classes: {},
          };
          variant.classes[sampleClass] = (variant.classes[sampleClass] ?? 0) + 1;
          variants.set(key, variant);
        }
      }
      const distinct = [...variants.values()];
      observations.push({
        probe: `POST ${client.mapping.login.path}: ${samples['unknown user'].length} unknown users, ${samples['wrong password'].length} wrong passwords for ${probe.username}, ${samples['locked account'].length} attempts while locked`,
        expected: 'one identical status and body for every class',
        actual: distinct.map((variant) => ({ status: variant.status, body: variant.body, samples: variant.classes })),
        ok: distinct.length === 1,
        note:
          distinct.length === 1
            ? 'every rejection looks the same'
            : `responses differ between classes: ${distinct
                .map((variant) => `${Object.keys(variant.classes).join('/')} → ${variant.status} ${variant.body}`)
                .join(' | ')}`,
      });

      const { unknownMedian, wrongMedian, difference, bound, ok: timingOk } = judgeTiming();
      const lockedMedian = median(samples['locked account'].map((response) => response.elapsedMs));
      observations.push({
        probe: 'median response time, unknown user vs wrong password',
        expected: { max_difference_ms: round(bound) },
        actual: {
          unknown_user_median_ms: round(unknownMedian),
          wrong_password_median_ms: round(wrongMedian),
          difference_ms: round(difference),
          samples: { unknown_user: samples['unknown user'].length, wrong_password: samples['wrong password'].length },
        },
        ok: timingOk,
        note: timingOk
          ? 'the two paths cost the same time'
          : `timing reveals which usernames exist: wrong-password median ${round(wrongMedian)} ms vs unknown-user median ${round(unknownMedian)} ms (difference ${round(difference)} ms, bound ${round(bound)} ms)`,
      });
      observations.push({
        probe: 'median response time while locked',
        actual: { locked_account_median_ms: round(lockedMedian), samples: samples['locked account'].length },
        note: 'context: the locked answer is compared by content above',
      });
      const retried = Object.values(samples)
        .flat()
        .filter((response) => response.retried !== undefined);
      if (retried.length > 0) {
        observations.push({
          probe: 'samples sent again on a fresh connection',
          actual: { samples: retried.length, first: retried[0]?.retried ?? null },
          note: `${retried.length} logins met a kept-alive connection that closed without an answer; the audit rows showed the service had not processed them, so each was sent once more on a fresh connection`,
        });
      }
      if (samples['wrong password'].length < samples['unknown user'].length) {
        observations.push({
          probe: 'wrong-password sample count',
          actual: samples['wrong password'].length,
          note: `only ${samples['wrong password'].length} wrong-password samples before the lockout: give auth.cleanup.unlock_account_sql (and a database) for ${samples['unknown user'].length}`,
        });
      }
    } catch (error) {
      return errorOutcome(ctx, 'the rejection responses', error, observations);
    } finally {
      if (lockedProbe) {
        observations.push(
          ctx.db
            ? await runCleanup(ctx.db, 'unlock_account_sql', unlockSql, probe.username)
            : {
                probe: `cleanup unlock_account_sql for ${probe.username}`,
                actual: 'not run: no database',
                note: `${probe.username} stays locked until it expires`,
              },
        );
      }
    }
    return verdict(
      observations,
      'unknown user, wrong password and locked account got the same answer, and the medians agree within the bound',
      brokenNotes(observations),
    );
  },
});
