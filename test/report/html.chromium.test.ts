/**
 * The HTML evidence page in real headless Chromium (Debian's, driven by
 * playwright-core): rendered by `secgate evidence render` from a really
 * signed envelope, opened from disk, checked for what an auditor must see,
 * and kept as a screenshot in test-artifacts/evidence.png. Chromium's XML
 * parser also proves the JUnit report well-formed.
 */
import { createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failingPredicate, hostilePredicate, passingPredicate } from '../../fixtures/evidence/predicates.js';
import { registerEvidenceRenderCommand } from '../../src/cli/evidence-render.js';
import { UsageError } from '../../src/cli/io.js';
import { signPayload, unsignedEnvelope } from '../../src/evidence/dsse.js';
import { generateSigningKeyPair } from '../../src/evidence/keys.js';
import {
  type EvidencePredicate,
  type EvidenceStatement,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
} from '../../src/evidence/types.js';
import { reporters } from '../../src/report/index.js';
import { runProgram } from '../cli-help/cli-io.js';

interface XmlElement {
  getAttribute(name: string): string | null;
}
interface XmlParser {
  parseFromString(text: string, type: string): { getElementsByTagName(name: string): ArrayLike<XmlElement> };
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CHROMIUM = '/usr/bin/chromium';
/** As the README says: Chromium is optional on a workstation (the suite says it skipped), required in CI. */
const browserAvailable = existsSync(CHROMIUM) || process.env.CI === 'true';
const describeInBrowser = browserAvailable ? describe : describe.skip;
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const COMMIT = '5b0e3c1f9a7d4e2b8c6a1f0e9d8c7b6a5f4e3d2c';

let browser: Browser;
let workdir: string;
const keys = generateSigningKeyPair('ed25519');
const otherKeys = generateSigningKeyPair('ed25519');

function statementFor(predicate: EvidencePredicate): EvidenceStatement {
  return {
    _type: STATEMENT_TYPE,
    subject: [
      { name: 'git:.', digest: { gitCommit: COMMIT } },
      { name: predicate.checklist.path, digest: { sha256: predicate.checklist.sha256 } },
    ],
    predicateType: PREDICATE_TYPE,
    predicate,
  };
}

async function writeEnvelope(name: string, predicate: EvidencePredicate, signer?: string): Promise<string> {
  const payload = Buffer.from(JSON.stringify(statementFor(predicate)));
  const envelope = signer ? signPayload(payload, createPrivateKey(signer)) : unsignedEnvelope(payload);
  const file = path.join(workdir, name);
  await writeFile(file, `${JSON.stringify(envelope, null, 2)}\n`);
  return file;
}

async function render(args: string[]) {
  return runProgram(workdir, ['evidence', 'render', ...args], (program, io, setExitCode) =>
    registerEvidenceRenderCommand(program, { io, setExitCode }),
  );
}

/** Opens a page from disk, recording every request it makes and every dialog it opens. */
async function open(file: string): Promise<{ page: Page; requests: string[]; dialogs: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(pathToFileURL(file).href);
  return { page, requests, dialogs };
}

beforeAll(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'secgate-html-'));
  await writeFile(path.join(workdir, 'signer.pub.pem'), keys.publicPem);
  await writeFile(path.join(workdir, 'other.pub.pem'), otherKeys.publicPem);
  if (!browserAvailable) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await rm(workdir, { recursive: true, force: true });
});

describeInBrowser('evidence page in Chromium', () => {
  it('shows verdict, signature, every control with its observations, and waivers; keeps a screenshot', async () => {
    const envelope = await writeEnvelope('evidence.json', failingPredicate, keys.privatePem);
    const run = await render(['evidence.json', '--key', 'signer.pub.pem']);
    expect(run.error).toBeUndefined();
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('Evidence page: evidence.html (signature valid)\n');
    const { page, requests, dialogs } = await open(envelope.replace(/\.json$/, '.html'));
    try {
      expect(await page.title()).toBe('Security gate FAILED: https://node-1.example.internal:8443');
      expect(await page.locator('#verdict').innerText()).toBe(
        'FAILED Gate failed: at least one control was observed to be broken.',
      );
      const signature = page.locator('#signature .sig');
      expect(await signature.getAttribute('data-status')).toBe('valid');
      expect(await signature.innerText()).toContain(`Signature valid. The evidence was signed by key ${keys.keyid}`);
      const run = await page.locator('#run').innerText();
      expect(run).toContain(`gitCommit: ${COMMIT}`);
      expect(run).toContain(`sha256 ${failingPredicate.checklist.sha256}`);

      const controls = page.locator('article.control');
      expect(await controls.count()).toBe(failingPredicate.checks.length);
      for (const record of failingPredicate.checks) {
        const article = page.locator(`article[data-check="${record.id}"]`);
        expect(await article.getAttribute('data-status')).toBe(record.status);
        const text = await article.innerText();
        expect(text).toContain(record.title);
        expect(text).toContain(record.summary);
        for (const observation of record.observations) expect(text).toContain(observation.probe);
      }
      const tls = await page.locator('article[data-check="tls.protocols"]').innerText();
      expect(tls).toMatch(
        /ClientHello TLSv1\.1\s+refused\s+ServerHello TLSv1\.1 ECDHE-RSA-AES128-SHA\s+✗ breaks the control/,
      );
      expect(tls).toContain('How to fix: Set ssl_protocols TLSv1.2 TLSv1.3 on the reverse proxy and reload it.');
      const secrets = await page.locator('article[data-check="repo.secrets"]').innerText();
      expect(secrets).toContain('at deploy/.env:3 (commit 8d4c2b1a9f0e)');
      const waived = await page.locator('article[data-check="http.docs-disabled"]').innerText();
      expect(waived).toContain(
        'This failure is accepted by a waiver until 2026-12-31 (end of day, UTC). Reason given: Swagger UI',
      );
      expect(await page.locator('article[data-check="http.headers"]').innerText()).toContain(
        'A waiver for this control EXPIRED on 2026-01-31 (end of day, UTC), so the control fails whatever was observed.',
      );
      const waivers = await page.locator('#waivers table').innerText();
      expect(waivers).toMatch(/http\.headers\s+HSTS preload pending, change CHG-2001\s+2026-01-31\s+expired/);

      expect(await page.locator('script').count()).toBe(0);
      expect(requests).toEqual([pathToFileURL(envelope.replace(/\.json$/, '.html')).href]);
      expect(dialogs).toEqual([]);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'evidence.png'), fullPage: true });
      const png = await readFile(path.join(ARTIFACTS, 'evidence.png'));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await page.close();
    }
  });

  it('says loudly when the signature does not verify, and exits 1', async () => {
    await writeEnvelope('foreign.json', passingPredicate, otherKeys.privatePem);
    const run = await render(['foreign.json', '--key', 'signer.pub.pem', '--out', 'pages/foreign.html']);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/foreign\.json does not verify: no signature by this key/);
    const { page } = await open(path.join(workdir, 'pages/foreign.html'));
    try {
      const signature = page.locator('#signature .sig');
      expect(await signature.getAttribute('data-status')).toBe('invalid');
      expect(await signature.innerText()).toMatch(
        /^Signature INVALID — do not rely on this document\. no signature by this key/,
      );
    } finally {
      await page.close();
    }
  });

  it('detects a payload altered after signing', async () => {
    const file = await writeEnvelope('tampered.json', failingPredicate, keys.privatePem);
    const envelope = JSON.parse(await readFile(file, 'utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as EvidenceStatement;
    statement.predicate.verdict = 'pass';
    envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await writeFile(file, JSON.stringify(envelope));
    const run = await render(['tampered.json', '--key', 'signer.pub.pem']);
    expect(run.exitCode).toBe(1);
    const { page } = await open(path.join(workdir, 'tampered.html'));
    try {
      expect(await page.locator('#signature .sig').innerText()).toContain('the signature does not match the payload');
    } finally {
      await page.close();
    }
  });

  it('labels unsigned evidence, and signed evidence rendered without a key', async () => {
    await writeEnvelope('unsigned.json', passingPredicate);
    expect((await render(['unsigned.json'])).stdout).toBe('Evidence page: unsigned.html (UNSIGNED evidence)\n');
    await writeEnvelope('signed.json', passingPredicate, keys.privatePem);
    expect((await render(['signed.json'])).stdout).toMatch(/signed\.html \(signature not checked/);
    const unsigned = await open(path.join(workdir, 'unsigned.html'));
    const signed = await open(path.join(workdir, 'signed.html'));
    try {
      expect(await unsigned.page.locator('#signature .sig').innerText()).toMatch(
        /^Not signed\. This evidence carries no signature/,
      );
      expect(await unsigned.page.locator('#verdict').innerText()).toMatch(/^PASSED Gate passed/);
      expect(await signed.page.locator('#signature .sig').innerText()).toContain(
        `Signature not checked. The evidence claims a signature by key ${keys.keyid}`,
      );
    } finally {
      await unsigned.page.close();
      await signed.page.close();
    }
  });

  it('shows hostile evidence as text: no script runs, no element is injected', async () => {
    await writeEnvelope('hostile.json', hostilePredicate, keys.privatePem);
    expect((await render(['hostile.json', '--key', 'signer.pub.pem'])).exitCode).toBe(0);
    const { page, requests, dialogs } = await open(path.join(workdir, 'hostile.html'));
    try {
      expect(await page.locator('script, img, b').count()).toBe(0);
      expect(await page.locator('body[onload], [onerror]').count()).toBe(0);
      expect(dialogs).toEqual([]);
      expect(requests).toHaveLength(1);
      expect(await page.locator('h1').innerText()).toBe(
        'Security gate for https://evil.example/"><script>alert(2)</script>',
      );
      const article = await page.locator('article.control').first().innerText();
      expect(article).toContain('GET /admin?q=<img src=x onerror=alert(1)>');
      expect(article).toContain('Admin <b>page</b> answers "401" & nothing else');
    } finally {
      await page.close();
    }
  });
});

describe('secgate evidence render (no browser needed)', () => {
  it('refuses input that is not a secgate envelope, naming the problem', async () => {
    await writeFile(path.join(workdir, 'not-envelope.json'), '{"hello":"world"}');
    const notEnvelope = await render(['not-envelope.json']);
    expect(notEnvelope.error).toBeInstanceOf(UsageError);
    expect((notEnvelope.error as Error).message).toMatch(/not-envelope\.json is not a DSSE envelope/);
    const broken = { ...failingPredicate, verdict: 'maybe' } as unknown as EvidencePredicate;
    await writeEnvelope('broken.json', broken, keys.privatePem);
    const malformed = await render(['broken.json', '--key', 'signer.pub.pem']);
    expect((malformed.error as Error).message).toMatch(
      /broken\.json: not a secgate evidence predicate at predicate\.verdict/,
    );
  });

  it('verifies with the private key file too (the GitHub Action renders with the key it signed with)', async () => {
    await writeEnvelope('self-signed.json', passingPredicate, keys.privatePem);
    await writeFile(path.join(workdir, 'signer.key.pem'), keys.privatePem, { mode: 0o600 });
    const run = await render(['self-signed.json', '--key', 'signer.key.pem']);
    expect(run.stdout).toBe('Evidence page: self-signed.html (signature valid)\n');
    expect(run.exitCode).toBe(0);
  });
});

describeInBrowser('JUnit XML in Chromium’s XML parser', () => {
  it('is well-formed, with the testcases, failures and errors the run had, even for hostile text', async () => {
    const page = await browser.newPage();
    try {
      for (const predicate of [failingPredicate, hostilePredicate]) {
        const xml = reporters.junit({ predicate });
        const parsed = await page.evaluate((text) => {
          // Runs in the page: the browser's own XML parser, typed here because the tests compile without the DOM library.
          const { DOMParser: Parser } = globalThis as unknown as { DOMParser: new () => XmlParser };
          const document = new Parser().parseFromString(text, 'application/xml');
          return {
            parserError: document.getElementsByTagName('parsererror').length,
            testcases: document.getElementsByTagName('testcase').length,
            failures: document.getElementsByTagName('failure').length,
            errors: document.getElementsByTagName('error').length,
            skipped: document.getElementsByTagName('skipped').length,
            firstFailureMessage: document.getElementsByTagName('failure')[0]?.getAttribute('message') ?? null,
          };
        }, xml);
        expect(parsed.parserError).toBe(0);
        expect(parsed.testcases).toBe(predicate.checks.length);
        expect(parsed.failures).toBe(predicate.counts.fail);
        expect(parsed.errors).toBe(predicate.counts.error);
        expect(parsed.skipped).toBe(predicate.counts.skip);
        expect(parsed.firstFailureMessage).toBe(predicate.checks.find((check) => check.status === 'fail')?.summary);
      }
    } finally {
      await page.close();
    }
  });
});
