import { z } from 'zod';
import {
  type CheckContext,
  type CheckOutcome,
  defineCheck,
  type HttpResponse,
  type Observation,
} from '../../src/engine/types.js';
import { runCleanup } from '../../src/probes/auth-audit.js';
import { createAuthClient, probeValue, type RequestRoute, resolveAccount } from '../../src/probes/auth-client.js';
import { brokenNotes, errorOutcome, unobservedOutcome, unobservedWhat, verdict } from '../outcome.js';
import { answerShape, comparableHeaders, noiseParts, shapeDifference } from './answer-shape.js';
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
  /** A difference beyond the bound counts only when chance explains it this rarely (two-sided p-value). */
  significance: number;
}

/**
 * `alike`: the medians are within the bound. `different`: beyond it, and the two classes' samples differ more
 * than chance explains. `undecided`: beyond it, but the samples are too noisy to say (more samples decide).
 */
export type TimingVerdict = 'alike' | 'different' | 'undecided';

export interface TimingAssessment {
  unknownMedian: number;
  wrongMedian: number;
  difference: number;
  bound: number;
  /** Two-sided Mann–Whitney p-value: how often chance alone separates the classes this much. */
  pValue: number;
  verdict: TimingVerdict;
  ok: boolean;
}

/** The standard normal CDF (Abramowitz–Stegun 7.1.26 for erf; error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const polynomial = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - polynomial * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Two-sided p-value of the Mann–Whitney U test (normal approximation with tie and continuity corrections):
 * rank-based, so a few huge samples on a busy machine weigh no more than any other. 1 when a class is empty.
 */
export function mannWhitneyPValue(first: readonly number[], second: readonly number[]): number {
  const n1 = first.length;
  const n2 = second.length;
  if (n1 === 0 || n2 === 0) return 1;
  const pooled = [
    ...first.map((value) => ({ value, fromFirst: true })),
    ...second.map((value) => ({ value, fromFirst: false })),
  ].sort((a, b) => a.value - b.value);
  let rankSumFirst = 0;
  let tieTerm = 0;
  for (let start = 0; start < pooled.length; ) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1]?.value === pooled[start]?.value) end++;
    const ties = end - start + 1;
    const averageRank = (start + end) / 2 + 1;
    for (let index = start; index <= end; index++) if (pooled[index]?.fromFirst) rankSumFirst += averageRank;
    tieTerm += ties ** 3 - ties;
    start = end + 1;
  }
  const total = n1 + n2;
  const u = rankSumFirst - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  if (variance <= 0) return 1;
  const z = Math.max(0, Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return Math.min(1, 2 * (1 - normalCdf(z)));
}

/**
 * The timing judge, pure: do unknown-user and wrong-password answers take the
 * same time? Medians, so a few slow samples (a GC pause, a busy machine) do not
 * decide; the bound is relative, so a machine that is slow for both classes
 * alike is not a difference; and a difference beyond the bound must also be
 * one chance does not explain, or the verdict is `undecided` (take more
 * samples). No samples in a class is never ok.
 */
export function assessTiming(
  samples: { unknownUserMs: readonly number[]; wrongPasswordMs: readonly number[] },
  bound: TimingBound,
): TimingAssessment {
  const unknownMedian = median(samples.unknownUserMs);
  const wrongMedian = median(samples.wrongPasswordMs);
  const difference = Math.abs(unknownMedian - wrongMedian);
  const allowed = Math.max(bound.tolerance_ms, bound.max_difference_ratio * Math.max(unknownMedian, wrongMedian));
  const pValue = mannWhitneyPValue(samples.unknownUserMs, samples.wrongPasswordMs);
  const verdict: TimingVerdict =
    difference <= allowed ? 'alike' : pValue < bound.significance ? 'different' : 'undecided';
  return { unknownMedian, wrongMedian, difference, bound: allowed, pValue, verdict, ok: verdict === 'alike' };
}

/**
 * Whether an early look may end the sampling: the medians are within half the bound. A correct service
 * usually shows this after a handful of samples; a borderline one does not, and gets every sample the
 * checklist asks for. Stopping early never adds a false alarm, but it can add a false pass (a leak whose first
 * few medians happen to sit close), so the early look is off unless the checklist names `early_samples`, and
 * the evidence says when it ended the sampling.
 */
export function clearlyAlike(assessment: TimingAssessment): boolean {
  return assessment.verdict === 'alike' && assessment.difference <= assessment.bound / 2;
}

export const noEnumerationParams = z
  .object({
    samples: z
      .number()
      .int()
      .min(3)
      .max(100)
      .default(15)
      .describe('timed samples per class (unknown user, wrong password)'),
    early_samples: z
      .number()
      .int()
      .min(3)
      .max(100)
      .optional()
      .describe(
        'off unless given: after this many samples per class, stop when the medians are within half the bound (clearly alike); otherwise take all `samples`',
      ),
    locked_samples: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(3)
      .describe('samples against the locked account (compared by answer; timed for context)'),
    max_difference_ratio: z
      .number()
      .min(0)
      .max(1)
      .default(0.25)
      .describe(
        'the medians may differ by at most this fraction of the larger one, or by tolerance_ms, whichever is larger',
      ),
    tolerance_ms: z
      .number()
      .min(0)
      .max(1_000)
      .default(5)
      .describe(
        'the medians may always differ by this many milliseconds (loopback noise), whatever max_difference_ratio allows',
      ),
    significance: z
      .number()
      .gt(0)
      .max(0.2)
      .default(0.01)
      .describe('a difference beyond the bound fails only when chance explains it less often than this (p-value)'),
    max_batches: z
      .number()
      .int()
      .min(2)
      .max(10)
      .default(4)
      .describe('batches of `samples` at most, while the difference is beyond the bound but not yet significant'),
    lockout_attempts: z
      .number()
      .int()
      .min(2)
      .max(50)
      .default(5)
      .describe(
        "the service's lockout threshold: wrong-password samples come in batches below it, and the locked samples after it",
      ),
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
      ])
      .describe('samples rotate over these addresses so they stay under the IP-block threshold; [] = unbound'),
    health_path: z
      .string()
      .regex(/^\//)
      .optional()
      .describe(
        "a public path requested once per address first, so no timed sample pays for a TLS handshake; default: the target's health_path",
      ),
    account: accountParam('probe_account').describe(
      'the account whose wrong passwords are timed (and which gets locked)',
    ),
    concurrent_pairs: z
      .boolean()
      .default(true)
      .describe(
        "send each round's unknown-user and wrong-password samples at once (from two addresses): half the wall time, same load on both. Set false for a service that hashes passwords one at a time",
      ),
  })
  .strict();

export default defineCheck({
  id: 'auth.no-enumeration',
  title: 'Unknown user, wrong password and locked account are indistinguishable by answer and by time',
  source: 'control A5 (docs/controls.md#A5): No account enumeration',
  docs: 'docs/controls.md#A5',
  remediation:
    'Answer every login rejection with the identical status and body, and hash a dummy password for unknown users so the unknown-user path costs what a wrong password costs.',
  rationale: 'A distinguishable answer or a measurably faster path tells an attacker which usernames exist.',
  effects: 'locks-account',
  slow: true,
  severity: 'medium',
  params: noEnumerationParams,
  strength: {
    samples: 'higher',
    early_samples: 'higher',
    locked_samples: 'higher',
    max_difference_ratio: 'lower',
    tolerance_ms: 'lower',
    significance: 'higher',
    max_batches: 'higher',
  },
  probeAddresses: (params) => params.source_addresses,
  requires: (params) => [`account:${params.account}`],
  async run(ctx, params) {
    const seen = await probeNoEnumeration(ctx, params);
    return 'problem' in seen ? seen.problem : judgeNoEnumeration(seen, params);
  },
});

type NoEnumerationParams = z.output<typeof noEnumerationParams>;

/** One rejection as the judge sees it: status, headers and body (scrubbed), time. */
export interface TimedAnswer {
  status: number;
  /** The body with every secret the run knows scrubbed. */
  body: string;
  /** The headers as answer-shape compares them (scrubbed, cookie values dropped). */
  headers: Record<string, string>;
  elapsedMs: number;
  /** Set when the sample was sent once more on a fresh connection (see the auth client). */
  retried?: string;
}

/** What the probe step saw: every sample per class, and what stopped it early, if anything. */
export interface NoEnumerationSeen {
  loginPath: string;
  username: string;
  samples: Record<SampleClass, TimedAnswer[]>;
  /** Why sampling stopped before the end (scrubbed); the judge answers `error` with what was seen. */
  notSeen?: string;
  /** The unlock after the lockout, or why it could not run. */
  cleanup?: Observation;
  /** The early look (early_samples) found the classes clearly alike and ended the sampling there. */
  stoppedEarly?: boolean;
}

/** The fewest samples per class a verdict may rest on: what the checklist asked for, or its early look. */
export function requiredSamples(params: Pick<NoEnumerationParams, 'samples' | 'early_samples'>): number {
  return Math.min(params.samples, params.early_samples ?? params.samples);
}

function timedAnswer(ctx: CheckContext, response: HttpResponse): TimedAnswer {
  return {
    status: response.status,
    body: ctx.secrets.redact(response.body),
    headers: comparableHeaders(response.headers, (value) => ctx.secrets.redact(value)),
    elapsedMs: response.elapsedMs,
    ...(response.retried !== undefined ? { retried: response.retried } : {}),
  };
}

const timingOf = (samples: NoEnumerationSeen['samples']) => ({
  unknownUserMs: samples['unknown user'].map((answer) => answer.elapsedMs),
  wrongPasswordMs: samples['wrong password'].map((answer) => answer.elapsedMs),
});

/**
 * Sends the samples: unknown users and wrong passwords in pairs (an early look, then batches while the timing
 * is undecided), then locks the account and times a few attempts while it is locked. Decides only when to stop
 * sampling (with the pure judges above); the verdict is judgeNoEnumeration's.
 */
export async function probeNoEnumeration(
  ctx: CheckContext,
  params: NoEnumerationParams,
): Promise<NoEnumerationSeen | { problem: CheckOutcome }> {
  const healthPath = params.health_path ?? ctx.target.health_path;
  const client = createAuthClient(ctx);
  const probe = resolveAccount(client.mapping, params.account);
  if (!probe) {
    return {
      problem: errorOutcome(
        ctx,
        `the wrong-password and locked paths: the checklist gives no account ${params.account}`,
        undefined,
      ),
    };
  }
  const unlockSql = client.mapping.cleanup?.unlock_account_sql;
  const canUnlock = Boolean(ctx.db && unlockSql);
  let requestIndex = 0;
  // The first batch and the lockout rotate over the check's own addresses, which it warms up and the pre-flight
  // checks; the batches a noisy timing asks for on top come from the run's pool, so that no address gets near
  // the service's IP-block threshold however many samples the statistics need.
  let fromPool = false;
  const nextRoute = async (): Promise<RequestRoute> =>
    fromPool
      ? { localAddress: await ctx.addresses.forFailure() }
      : { localAddress: params.source_addresses[requestIndex++ % Math.max(params.source_addresses.length, 1)] };
  const seen: NoEnumerationSeen = {
    loginPath: client.mapping.login.path,
    username: probe.username,
    samples: { 'unknown user': [], 'wrong password': [], 'locked account': [] },
  };
  const record = (sampleClass: SampleClass, response: HttpResponse) =>
    seen.samples[sampleClass].push(timedAnswer(ctx, response));
  let lockedProbe = false;
  try {
    // One connection per address first, so no sample pays for a TLS handshake.
    await Promise.all(
      (params.source_addresses.length ? params.source_addresses : [undefined]).map((localAddress) =>
        client.get(healthPath, { localAddress }),
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
        const unknownRequest = async () =>
          client.login(probeValue('secgate-unknown'), probeValue('wrong'), await nextRoute());
        const wrongRequest = async () => client.login(probe.username, probeValue('wrong'), await nextRoute());
        if (params.concurrent_pairs && takeWrong) {
          const [unknown, wrong] = await Promise.all([unknownRequest(), wrongRequest()]);
          record('unknown user', unknown.response);
          record('wrong password', wrong.response);
        } else {
          record('unknown user', (await unknownRequest()).response);
          if (takeWrong) record('wrong password', (await wrongRequest()).response);
        }
      }
    };
    const timingSoFar = () => assessTiming(timingOf(seen.samples), params);
    // An early look first: a correct service is usually clearly alike after a few samples, and every
    // sample costs the service a password hash.
    const earlyAt = params.early_samples !== undefined && params.early_samples < params.samples;
    await takeSamples(earlyAt ? (params.early_samples ?? params.samples) : params.samples);
    if (earlyAt) {
      if (clearlyAlike(timingSoFar())) seen.stoppedEarly = true;
      else await takeSamples(params.samples - (params.early_samples ?? params.samples));
    }
    // Sequential: stop as soon as the classes are clearly alike; a difference must hold over at least two
    // batches (a load spike on a shared machine can skew one) and be significant; noise takes more batches.
    for (let batches = 1; batches < params.max_batches; batches++) {
      const { verdict: sofar } = timingSoFar();
      if (sofar === 'alike' || (sofar === 'different' && batches >= 2)) break;
      fromPool = true;
      await takeSamples(params.samples);
    }
    fromPool = false;
    for (let sent = wrongSinceUnlock; sent < params.lockout_attempts; sent++) {
      await client.login(probe.username, probeValue('wrong'), await nextRoute());
    }
    // The locked samples at once: they are compared by answer, and their timing is context only.
    const lockedAnswers = await Promise.all(
      Array.from({ length: params.locked_samples }, async () =>
        client.login(probe.username, probeValue('wrong'), await nextRoute()),
      ),
    );
    for (const answer of lockedAnswers) record('locked account', answer.response);
  } catch (error) {
    seen.notSeen = unobservedWhat(ctx, 'the rejection responses', error);
  } finally {
    if (lockedProbe) {
      seen.cleanup = ctx.db
        ? await runCleanup(ctx.db, 'unlock_account_sql', unlockSql, probe.username)
        : {
            probe: `cleanup unlock_account_sql for ${probe.username}`,
            actual: 'not run: no database',
            note: `${probe.username} stays locked until it expires`,
          };
    }
  }
  return seen;
}

/**
 * The verdict. Pure: every answer must be the same (status and body) across the three classes, and the two
 * timed classes' medians must agree within the bound; a difference the samples can neither confirm nor rule out
 * is an error, never a pass.
 */
export function judgeNoEnumeration(seen: NoEnumerationSeen, params: NoEnumerationParams): CheckOutcome {
  const { samples } = seen;
  const cleanup = seen.cleanup ? [seen.cleanup] : [];
  if (seen.notSeen !== undefined) return unobservedOutcome(seen.notSeen, cleanup);
  const required = requiredSamples(params);
  // Unknown users are never limited by the lockout; wrong passwords are, without an unlock statement (the
  // observation below says so), so the count the checklist asked for is held against the unknown-user class.
  const fewest = samples['unknown user'].length;
  const observations: Observation[] = [];
  // Every body is whole: the auth client refuses a cut answer (AuthFlowError) before it gets here. What differs
  // between any two answers of every class (a per-request id) is noise; everything else must be one shape.
  const noise = noiseParts(Object.values(samples));
  const variants = new Map<string, { status: number; body: string; shape: string; classes: Record<string, number> }>();
  for (const [sampleClass, answers] of Object.entries(samples)) {
    for (const answer of answers) {
      const shape = answerShape(answer, noise);
      const variant = variants.get(shape) ?? {
        status: answer.status,
        body: answer.body.slice(0, 200),
        shape,
        classes: {},
      };
      variant.classes[sampleClass] = (variant.classes[sampleClass] ?? 0) + 1;
      variants.set(shape, variant);
    }
  }
  const distinct = [...variants.values()];
  // Which parts tell the variants apart: a status or body shows in the list, a header only in the difference.
  const [firstVariant, secondVariant] = distinct;
  const headerOnly =
    firstVariant !== undefined &&
    secondVariant !== undefined &&
    firstVariant.status === secondVariant.status &&
    firstVariant.body === secondVariant.body;
  observations.push({
    probe: `POST ${seen.loginPath}: ${samples['unknown user'].length} unknown users, ${samples['wrong password'].length} wrong passwords for ${seen.username}, ${samples['locked account'].length} attempts while locked`,
    expected: 'one identical status, headers and body for every class',
    actual: distinct.map((variant) => ({ status: variant.status, body: variant.body, samples: variant.classes })),
    ok: distinct.length === 1,
    note:
      distinct.length === 1
        ? `every rejection looks the same${noise.size ? ` (apart from what differs between any two answers: ${[...noise].join(', ')})` : ''}`
        : headerOnly
          ? `responses differ between classes in their headers: ${Object.keys(firstVariant.classes).join('/')} against ${Object.keys(secondVariant.classes).join('/')}: ${shapeDifference(firstVariant.shape, secondVariant.shape)}`
          : `responses differ between classes: ${distinct
              .map((variant) => `${Object.keys(variant.classes).join('/')} → ${variant.status} ${variant.body}`)
              .join(' | ')}`,
  });

  const {
    unknownMedian,
    wrongMedian,
    difference,
    bound,
    pValue,
    verdict: timing,
  } = assessTiming(timingOf(samples), params);
  const lockedMedian = median(samples['locked account'].map((answer) => answer.elapsedMs));
  observations.push({
    probe: 'median response time, unknown user vs wrong password',
    expected: { max_difference_ms: round(bound) },
    actual: {
      unknown_user_median_ms: round(unknownMedian),
      wrong_password_median_ms: round(wrongMedian),
      difference_ms: round(difference),
      p_value: Number(pValue.toPrecision(2)),
      samples: { unknown_user: samples['unknown user'].length, wrong_password: samples['wrong password'].length },
    },
    ...(timing === 'undecided' ? {} : { ok: timing === 'alike' }),
    note:
      timing === 'alike'
        ? 'the two paths cost the same time'
        : timing === 'different'
          ? `timing reveals which usernames exist: wrong-password median ${round(wrongMedian)} ms vs unknown-user median ${round(unknownMedian)} ms (difference ${round(difference)} ms, bound ${round(bound)} ms, p = ${pValue.toPrecision(2)})`
          : `timing too noisy to decide: medians ${round(difference)} ms apart (bound ${round(bound)} ms), but chance explains it (p = ${pValue.toPrecision(2)}, needs < ${params.significance}) after ${samples['unknown user'].length} samples per class`,
  });
  observations.push({
    probe: 'median response time while locked',
    actual: { locked_account_median_ms: round(lockedMedian), samples: samples['locked account'].length },
    note: 'context: the locked answer is compared by content above',
  });
  const retried = Object.values(samples)
    .flat()
    .filter((answer) => answer.retried !== undefined);
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
  if (seen.stoppedEarly) {
    observations.push({
      probe: 'early look (early_samples)',
      actual: { samples_per_class: fewest, asked: params.samples },
      note: `the medians were within half the bound after ${fewest} samples per class, so sampling stopped there`,
    });
  }
  observations.push(...cleanup);
  const broken = brokenNotes(observations);
  if (broken.length === 0 && fewest < required) {
    // Not observed is not absent: a verdict on fewer samples than the checklist asked for is no pass.
    return {
      status: 'error',
      summary: `could not judge the timing: ${fewest} samples per class, the checklist asks for ${required}`,
      observations,
    };
  }
  if (timing === 'undecided' && broken.length === 0) {
    // Not observed is not absent: a difference the samples could neither confirm nor rule out is no pass.
    return {
      status: 'error',
      summary: `could not decide whether timing reveals which usernames exist: ${observations.find((observation) => observation.note?.startsWith('timing too noisy'))?.note ?? ''}`,
      observations,
    };
  }
  return verdict(
    observations,
    `unknown user, wrong password and locked account got the same answer, and the medians agree within the bound${seen.stoppedEarly ? ` (early look: ${fewest} samples per class)` : ''}`,
    broken,
  );
}
