/**
 * Protocol and cipher-suite scanning on top of the raw hello probe: which
 * versions a server accepts (one hello per version, all in parallel) and which
 * TLS 1.2 suites it accepts (repeat the hello without the suite it chose),
 * with the DH group size of each DHE suite. Knows nothing of checks or policy.
 */
import type { DhGroupObservation, ScanTarget, SuiteEnumeration, VersionVerdict } from '../engine/observations.js';
import {
  alertName,
  buildClientHello,
  type HelloResult,
  type ProtocolVersion,
  sendClientHello,
  versionCode,
  versionName,
} from './tls-hello.js';
import { cipherSuiteName, isFiniteFieldDhe, LEGACY_SUITES, TLS13_SUITES } from './tls-suites.js';

// The contract owns these types (src/engine/observations.ts); re-exported for this module's importers.
export type { DhGroupObservation, ScanTarget, SuiteEnumeration, VersionVerdict } from '../engine/observations.js';

/** What a server's answer to a hello for `version` says about that version. Pure. */
export function judgeVersion(version: ProtocolVersion, result: HelloResult): VersionVerdict {
  const { elapsedMs } = result;
  switch (result.outcome) {
    case 'server-hello': {
      if (result.version === versionCode(version)) {
        return {
          version,
          state: 'accepted',
          cipherSuite: cipherSuiteName(result.cipherSuite),
          helloRetryRequest: result.helloRetryRequest,
          elapsedMs,
        };
      }
      return { version, state: 'refused', answer: `server answered with ${versionName(result.version)}`, elapsedMs };
    }
    case 'alert':
      return {
        version,
        state: 'refused',
        answer: `alert ${alertName(result.description)} (${result.description})`,
        elapsedMs,
      };
    case 'closed':
      return { version, state: 'refused', answer: `connection ${result.reason}`, elapsedMs };
    case 'error':
      return { version, state: 'unknown', reason: result.reason, elapsedMs };
  }
}

function suitesFor(version: ProtocolVersion): number[] {
  return (version === 'TLSv1.3' ? TLS13_SUITES : LEGACY_SUITES).map((suite) => suite.code);
}

/** Offers every known suite for `version` and judges the answer. */
export async function probeVersion(target: ScanTarget, version: ProtocolVersion): Promise<VersionVerdict> {
  const hello = buildClientHello({ version, cipherSuites: suitesFor(version), serverName: target.serverName });
  const first = await sendClientHello(target, hello);
  // A bare close may be a refusal or a transient reset under load: only a second close confirms it.
  if (first.outcome !== 'closed') return judgeVersion(version, first);
  return judgeVersion(version, await sendClientHello(target, hello));
}

/** The hello names a DHE suite but not its group: for those, read on to the ServerKeyExchange. */
const readDhGroupOf = (cipherSuite: number): boolean => isFiniteFieldDhe(cipherSuiteName(cipherSuite));

/**
 * Offers `offered`, records the suite the server picks (and a DHE suite's
 * group), removes it and asks again until the server refuses. The result does
 * not depend on whether the server or the client order wins.
 */
async function enumerateGroup(
  target: ScanTarget,
  version: ProtocolVersion,
  offered: number[],
): Promise<SuiteEnumeration> {
  const remaining = [...offered];
  const accepted: string[] = [];
  const dhGroups: Record<string, DhGroupObservation> = {};
  let hellos = 0;
  while (remaining.length > 0) {
    hellos += 1;
    const hello = buildClientHello({ version, cipherSuites: remaining, serverName: target.serverName });
    let result = await sendClientHello(target, hello, { readDhGroupOf });
    // A reset or an unexpected alert is not "none of the rest is accepted": ask once more, then give up
    // with an error rather than a verdict, so a transient failure cannot hide a weak suite.
    if (!endsEnumeration(result)) {
      hellos += 1;
      result = await sendClientHello(target, hello, { readDhGroupOf });
    }
    if (result.outcome === 'error') return { version, accepted, dhGroups, hellos, error: result.reason };
    if (result.outcome === 'server-hello' && result.version !== versionCode(version)) break;
    if (result.outcome !== 'server-hello') {
      if (endsEnumeration(result)) break;
      return {
        version,
        accepted,
        dhGroups,
        hellos,
        error: `the server answered ${result.outcome === 'alert' ? `alert ${alertName(result.description)}` : 'by closing the connection'} instead of choosing a suite or refusing with handshake_failure`,
      };
    }
    const index = remaining.indexOf(result.cipherSuite);
    if (index < 0) {
      return {
        version,
        accepted,
        dhGroups,
        hellos,
        error: `server chose ${cipherSuiteName(result.cipherSuite)}, which was not offered`,
      };
    }
    const name = cipherSuiteName(result.cipherSuite);
    accepted.push(name);
    if (result.dhGroup) dhGroups[name] = result.dhGroup;
    remaining.splice(index, 1);
  }
  return { version, accepted, dhGroups, hellos };
}

/**
 * Accepted suites for `version`. The known suites are split into `groups`
 * interleaved slices enumerated in parallel: a suite the server accepts is
 * found in whichever slice holds it, so the union is the full answer while the
 * wall time drops to the longest slice.
 */
export async function enumerateSuites(
  target: ScanTarget,
  version: ProtocolVersion,
  groups = 4,
): Promise<SuiteEnumeration> {
  const codes = suitesFor(version);
  const slices = Array.from({ length: groups }, (_, slice) => codes.filter((_, index) => index % groups === slice));
  const results = await Promise.all(slices.map((slice) => enumerateGroup(target, version, slice)));
  const error = results.find((result) => result.error)?.error;
  return {
    version,
    accepted: results.flatMap((result) => result.accepted),
    dhGroups: Object.fromEntries(results.flatMap((result) => Object.entries(result.dhGroups ?? {}))),
    hellos: results.reduce((total, result) => total + result.hellos, 0),
    ...(error ? { error } : {}),
  };
}

/**
 * handshake_failure (40) and insufficient_security (71) mean "no acceptable suite among those
 * offered"; protocol_version (70) means the version itself is refused, so there is none either.
 */
const NO_SHARED_SUITE_ALERTS = new Set([40, 70, 71]);

function endsEnumeration(result: Awaited<ReturnType<typeof sendClientHello>>): boolean {
  if (result.outcome === 'server-hello' || result.outcome === 'error') return true;
  return result.outcome === 'alert' && NO_SHARED_SUITE_ALERTS.has(result.description);
}
