/**
 * Really signed per-target evidence and its join, for the fleet judgement
 * tests: a test key signs, so every envelope verifies and only its content is
 * what a test varies.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { failingPredicate, passingPredicate } from '../../fixtures/evidence/predicates.js';
import { signPayload } from '../../src/evidence/dsse.js';
import { aggregateFleet, type FleetStatement, serializeFleetStatement } from '../../src/evidence/fleet.js';
import {
  type EvidencePredicate,
  type EvidenceStatement,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
} from '../../src/evidence/types.js';

export const COMMIT = 'a'.repeat(40);
export const OTHER_COMMIT = 'b'.repeat(40);
export const CHECKLIST_SHA = passingPredicate.checklist.sha256;
export const NOW = new Date('2026-12-03T12:00:00Z');
export const HOUR = 3_600_000;

/** A failed run and a partial one, as a run records them (a verdict its checks do not bear out is refused). */
export const FAILED = {
  verdict: 'fail',
  exitCode: 1,
  checks: failingPredicate.checks,
  counts: failingPredicate.counts,
  waivers: failingPredicate.waivers,
} as const satisfies Partial<EvidencePredicate>;
export const PARTIAL = {
  verdict: 'partial',
  exitCode: 0,
  partial: { deselected: ['command.gates'], allowed: true },
} as const satisfies Partial<EvidencePredicate>;

const keyPair = () => generateKeyPairSync('ed25519');
export const gate = keyPair();
export const stranger = keyPair();

/** One target's evidence, signed by the gate key unless another is given. */
export function evidence(
  target: string | undefined,
  overrides: Partial<EvidencePredicate> = {},
  options: { commit?: string; uncommitted?: boolean; key?: KeyObject } = {},
) {
  const statement: EvidenceStatement = {
    _type: STATEMENT_TYPE,
    subject: [
      {
        name: 'https://git.example/org/service.git',
        digest: { gitCommit: options.commit ?? COMMIT },
        ...(options.uncommitted ? { annotations: { uncommittedChanges: true } } : {}),
      },
      { name: 'checklist.yaml', digest: { sha256: CHECKLIST_SHA } },
    ],
    predicateType: PREDICATE_TYPE,
    predicate: {
      ...passingPredicate,
      startedAt: '2026-12-03T11:00:00.000Z',
      finishedAt: '2026-12-03T11:00:04.000Z',
      ...(target ? { fleet: { target } } : {}),
      ...overrides,
    },
  };
  return signPayload(Buffer.from(JSON.stringify(statement)), options.key ?? gate.privateKey);
}

export const aggregate = (envelopes: unknown[], targets = ['eu', 'us'], keys = [gate.publicKey], now = NOW) =>
  aggregateFleet({
    envelopes: envelopes.map((envelope, index) => ({ source: `e${index}.json`, envelope })),
    keys,
    targets,
    checklistSha256: CHECKLIST_SHA,
    maxAgeMs: 24 * HOUR,
    now,
    toolVersion: '0.1.0',
  });

export function fleetOf(result: ReturnType<typeof aggregate>): FleetStatement {
  if ('refused' in result) throw new Error(`refused: ${result.refused.join('; ')}`);
  return result.statement;
}

/** A fleet statement signed by the gate key, exactly as given (a forgery when it lies). */
export const signFleet = (statement: FleetStatement) =>
  signPayload(serializeFleetStatement(statement), gate.privateKey);
