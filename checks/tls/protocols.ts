/**
 * tls.protocols — seed 002, checklist item 3: TLS 1.2 is the minimum; SSLv3,
 * TLS 1.0 and 1.1 are refused; and (seed 002, "TLS version policy") the TLS 1.2
 * suites are forward-secret AEAD suites. A DHE suite, where the checklist
 * accepts one, must come with a DH group of at least 2048 bits.
 *
 * The minimum is a floor, not a version that must be offered: a server that
 * speaks only TLS 1.3 is stronger than the policy asks and passes. A version
 * that must be accepted for old clients is asked for explicitly (`require`).
 *
 * Every version is tested with a ClientHello secgate builds itself, so the
 * verdict does not depend on which versions the local OpenSSL will offer.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import { PROTOCOL_VERSIONS, type ProtocolVersion } from '../../src/probes/tls-hello.js';
import type { DhGroupObservation, ScanTarget, SuiteEnumeration, VersionVerdict } from '../../src/probes/tls-scan.js';
import {
  DH_GROUP_WEAKNESS,
  dhGroupTooSmall,
  isFiniteFieldDhe,
  MIN_DH_GROUP_BITS,
  SUITE_WEAKNESSES,
  type SuiteWeakness,
  suiteWeaknesses,
} from '../../src/probes/tls-suites.js';

export const protocolsParams = z
  .object({
    minimum: z
      .enum(['TLSv1.2', 'TLSv1.3'])
      .default('TLSv1.2')
      .describe('lowest version that may be accepted: every version below it must be refused'),
    require: z
      .array(z.enum(['TLSv1.2', 'TLSv1.3']))
      .default([])
      .describe(
        'versions that must be accepted, for clients that need them (e.g. [TLSv1.2]); by default none in particular',
      ),
    forbid: z
      .array(z.enum(SUITE_WEAKNESSES))
      .default([...SUITE_WEAKNESSES])
      .describe(
        'suite properties that fail the check when any accepted TLS 1.2 suite has them; leaving out `finite-field-dhe` accepts DHE suites whose DH group has at least 2048 bits (a smaller group always fails)',
      ),
    allow_suites: z
      .array(z.string().regex(/^TLS_[A-Z0-9_]+$/, { message: 'expected an IANA suite name' }))
      .default([])
      .describe('IANA suite names accepted despite `forbid` (a documented exception, e.g. for an old client)'),
  })
  .strict();
export type ProtocolsParams = z.output<typeof protocolsParams>;

/** Every version a checklist may have named as `minimum`, weakest first (a base branch may predate today's schema). */
const TLS_VERSIONS_WEAKEST_FIRST = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** `host:port` and SNI name from the target URL. */
export function scanTargetFromUrl(url: string, timeoutMs: number, signal?: AbortSignal): ScanTarget {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: parsed.port ? Number(parsed.port) : 443,
    // SNI carries host names only (RFC 6066 §3).
    serverName: isIP(host) ? undefined : host,
    timeoutMs,
    signal,
  };
}

function versionRank(version: ProtocolVersion): number {
  return PROTOCOL_VERSIONS.indexOf(version);
}

function describeVerdict(verdict: VersionVerdict): string {
  switch (verdict.state) {
    case 'accepted':
      return `accepted (${verdict.cipherSuite}${verdict.helloRetryRequest ? ', after HelloRetryRequest' : ''})`;
    case 'refused':
      return `refused (${verdict.answer})`;
    case 'unknown':
      return `no verdict (${verdict.reason})`;
  }
}

/** What the policy requires of one version. */
function expectationFor(version: ProtocolVersion, params: ProtocolsParams): 'accepted' | 'refused' | 'either' {
  if (versionRank(version) < versionRank(params.minimum)) return 'refused';
  return params.require.some((required) => required === version) ? 'accepted' : 'either';
}

interface SuiteJudgement {
  observation: Pick<Observation, 'actual' | 'ok' | 'note'>;
  /** How the summary names the suite when it fails. */
  weak?: string;
  /** Why its DH group was not observed, when that alone stands between the suite and a pass. */
  unseen?: string;
}

/**
 * One accepted suite against the policy: the weaknesses `forbid` names (which
 * allow_suites waives) and, for DHE, the group size, which no setting waives.
 * Undefined for a suite there is nothing to say about. Pure.
 */
export function judgeSuite(
  name: string,
  group: DhGroupObservation | undefined,
  forbidden: ReadonlySet<SuiteWeakness>,
  listedInAllowSuites: boolean,
): SuiteJudgement | undefined {
  const weaknesses: string[] = suiteWeaknesses(name).filter((weakness) => forbidden.has(weakness));
  const dhe = isFiniteFieldDhe(name);
  if (weaknesses.length === 0 && !dhe) return undefined;
  // A DHE suite without a group in the enumeration had no ServerKeyExchange read: not seen, never assumed fine.
  const seen = dhe ? (group ?? { error: 'no ServerKeyExchange was read' }) : undefined;
  const bits = seen && 'bits' in seen ? seen.bits : undefined;
  const smallGroup = bits !== undefined && dhGroupTooSmall(bits);
  const failsByPolicy = weaknesses.length > 0 && !listedInAllowSuites;
  const fails = failsByPolicy || smallGroup;
  const unseen = seen && 'error' in seen ? seen.error : undefined;
  const all = smallGroup ? [...weaknesses, DH_GROUP_WEAKNESS] : weaknesses;
  const notes = [
    ...(listedInAllowSuites && weaknesses.length > 0 ? ['listed in allow_suites'] : []),
    ...(listedInAllowSuites && smallGroup
      ? [`allow_suites does not waive a DH group below ${MIN_DH_GROUP_BITS} bits`]
      : []),
    ...(weaknesses.includes('finite-field-dhe') ? ['finite-field DHE: T3 asks for ECDHE'] : []),
    ...(unseen ? [`DH group not observed: ${unseen}`] : []),
  ];
  const groupText = bits === undefined ? '' : ` with a ${bits}-bit DH group`;
  return {
    observation: {
      actual: `${name} accepted${groupText}${all.length > 0 ? ` (${all.join(', ')})` : ''}`,
      ok: !fails && unseen === undefined,
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    },
    ...(fails ? { weak: smallGroup ? `${name}${groupText}` : name } : {}),
    // Where the suite fails anyway, the group it was served with changes nothing.
    ...(!fails && unseen !== undefined ? { unseen } : {}),
  };
}

/**
 * The verdict from the hello answers. Pure: everything it judges is in its
 * arguments, and every judgement becomes an observation.
 */
export function assessProtocols(
  endpoint: string,
  verdicts: readonly VersionVerdict[],
  suites: SuiteEnumeration,
  params: ProtocolsParams,
): CheckOutcome {
  const observations: Observation[] = [];
  const problems: string[] = [];
  const unknowns: string[] = [];

  for (const verdict of verdicts) {
    const expected = expectationFor(verdict.version, params);
    const ok = verdict.state === 'unknown' ? false : expected === 'either' || verdict.state === expected;
    observations.push({
      probe: `ClientHello ${verdict.version} to ${endpoint}`,
      expected: expected === 'either' ? 'accepted or refused' : expected,
      actual: describeVerdict(verdict),
      ok,
      note: `${verdict.elapsedMs} ms`,
    });
    if (verdict.state === 'unknown') unknowns.push(`${verdict.version}: ${verdict.reason}`);
    else if (!ok) {
      problems.push(
        verdict.state === 'refused'
          ? `${verdict.version} refused (${verdict.answer}) but the checklist requires it (require: [${params.require.join(', ')}])`
          : `${verdict.version} accepted (minimum is ${params.minimum})`,
      );
    }
  }

  const forbidden = new Set<SuiteWeakness>(params.forbid);
  const allowed = new Set(params.allow_suites);
  const weakSuites: string[] = [];
  for (const name of suites.accepted) {
    const judged = judgeSuite(name, suites.dhGroups?.[name], forbidden, allowed.has(name));
    if (!judged) continue;
    observations.push({
      probe: `ClientHello ${suites.version} to ${endpoint} offering ${name}`,
      expected: `no accepted suite with: ${[...forbidden, DH_GROUP_WEAKNESS].join(', ')}`,
      ...judged.observation,
    });
    if (judged.weak) weakSuites.push(judged.weak);
    if (judged.unseen) unknowns.push(`${suites.version} ${name}: DH group not observed (${judged.unseen})`);
  }
  observations.push({
    probe: `${suites.version} cipher-suite enumeration on ${endpoint} (${suites.hellos} hellos)`,
    actual: suites.accepted,
    ok: suites.error === undefined,
    ...(suites.error ? { note: `enumeration incomplete: ${suites.error}` } : {}),
  });
  if (suites.error) unknowns.push(`${suites.version} suite enumeration: ${suites.error}`);
  if (weakSuites.length > 0) {
    problems.push(`${suites.version} accepts ${weakSuites.length} weak suite(s): ${weakSuites.join(', ')}`);
  }

  const accepted = verdicts.filter((verdict) => verdict.state === 'accepted').map((verdict) => verdict.version);
  if (accepted.length === 0 && unknowns.length === 0) {
    problems.push(`no TLS version at or above ${params.minimum} was accepted: no client can connect`);
  }

  // A violation seen for certain outranks a probe that got no answer: both fail the gate, but `fail` says why.
  if (problems.length > 0) return { status: 'fail', summary: problems.join('; '), observations };
  if (unknowns.length > 0) {
    return { status: 'error', summary: `could not observe ${endpoint}: ${unknowns.join('; ')}`, observations };
  }
  const suiteSummary = accepted.includes(suites.version)
    ? `${suites.accepted.length} ${suites.version} suite(s), none weak`
    : `${suites.version} not offered`;
  return {
    status: 'pass',
    summary: `accepts ${accepted.join(', ')}; refuses everything below ${params.minimum}; ${suiteSummary}`,
    observations,
  };
}

export default defineCheck({
  id: 'tls.protocols',
  title:
    'Only TLS 1.2 or newer is accepted: SSLv3, TLS 1.0 and 1.1 are refused (TLS 1.3 alone is fine); TLS 1.2 suites are forward-secret and AEAD',
  source: 'control T3 (docs/controls.md#T3): TLS 1.2 is the minimum, with forward secrecy',
  docs: 'docs/controls.md#T3',
  remediation:
    'Allow only TLS 1.2 and 1.3 on the TLS endpoint (nginx: ssl_protocols TLSv1.2 TLSv1.3; Caddy: protocols tls1.2 tls1.3) and restrict TLS 1.2 to ECDHE suites with AES-GCM or ChaCha20-Poly1305.',
  rationale:
    'SSLv3, TLS 1.0 and 1.1 are broken (POODLE, BEAST, no AEAD); suites without ephemeral key exchange let a stolen key decrypt recorded traffic, and CBC/RC4/3DES suites have practical attacks.',
  effects: 'none',
  severity: 'high',
  params: protocolsParams,
  strength: { minimum: TLS_VERSIONS_WEAKEST_FIRST, forbid: 'verified', allow_suites: 'accepted' },
  async run(ctx, params) {
    const target = scanTargetFromUrl(ctx.target.url, ctx.target.timeout_ms, ctx.signal);
    const endpoint = `${target.host}:${target.port}`;
    // All hellos in parallel: versions and the TLS 1.2 suite enumeration are independent.
    const [verdicts, suites] = await Promise.all([
      Promise.all(PROTOCOL_VERSIONS.map((version) => ctx.tls.probeVersion(target, version))),
      ctx.tls.enumerateSuites(target, 'TLSv1.2'),
    ]);
    return assessProtocols(endpoint, verdicts, suites, params);
  },
});
