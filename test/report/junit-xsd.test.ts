/**
 * The JUnit report against the Jenkins xunit plugin's own schema:
 * test/report/junit-10.xsd is jenkinsci/xunit-plugin's
 * src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd
 * (commit 8c515de2804b3fd591a3b0f1ff8908a1b1a41887, MIT licence in its header),
 * checked with xmllint (Debian's libxml2-utils; required in CI, installed by .ci/run).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../../bench/tls-scanners.js';
import {
  couldNotVerifyPredicate,
  failingPredicate,
  hostilePredicate,
  passingPredicate,
  waivedPredicate,
} from '../../fixtures/evidence/predicates.js';
import { reporters } from '../../src/report/index.js';

const SCHEMA = path.resolve('test/report/junit-10.xsd');
const xmllint = await findExecutable('xmllint');
const inCi = process.env.CI === 'true';

async function validate(xml: string): Promise<{ valid: boolean; messages: string }> {
  if (!xmllint) throw new Error('xmllint is not installed');
  const directory = await mkdtemp(path.join(tmpdir(), 'secgate-junit-'));
  const file = path.join(directory, 'secgate.xml');
  await writeFile(file, xml);
  const result = await execa(xmllint, ['--noout', '--schema', SCHEMA, file], { reject: false });
  return { valid: result.exitCode === 0, messages: result.stderr };
}

describe('junit is valid against the Jenkins xunit plugin junit-10.xsd', () => {
  if (!xmllint) {
    if (inCi) {
      it('has xmllint installed (required in CI: apt-get install libxml2-utils)', () => {
        expect.fail('xmllint is not on PATH; .ci/run must install the libxml2-utils Debian package');
      });
    } else {
      it.skip('xmllint is not installed on this machine (apt-get install libxml2-utils)', () => {});
    }
    return;
  }

  const fixtures = { passingPredicate, failingPredicate, couldNotVerifyPredicate, waivedPredicate, hostilePredicate };
  it.each(Object.entries(fixtures))('%s', async (_name, predicate) => {
    const { valid, messages } = await validate(reporters.junit({ predicate }));
    expect(messages).toMatch(/validates$/m);
    expect(valid).toBe(true);
  });

  it('the schema check is not vacuous: a file attribute on a testcase is refused', async () => {
    const xml = reporters
      .junit({ predicate: failingPredicate })
      .replace('<testcase ', '<testcase file="checklist.yaml" ');
    const { valid, messages } = await validate(xml);
    expect(valid).toBe(false);
    expect(messages).toContain("attribute 'file': The attribute 'file' is not allowed.");
  });

  it('still names the checklist for each testcase, in system-out', () => {
    const xml = reporters.junit({ predicate: failingPredicate });
    expect(xml).toContain(`Checklist: ${failingPredicate.checklist.path}`);
    expect(xml).toMatch(/<testsuites name="[^"]*" tests="8" failures="3" errors="1" time="/);
  });
});
