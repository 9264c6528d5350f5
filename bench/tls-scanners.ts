/**
 * The established scanners secgate's tls.protocols is compared with: sslscan
 * (`--no-ciphersuites`) and testssl.sh (`-p`). Each runner returns the
 * accepted/refused verdict per protocol version as the tool reported it, and
 * how long the tool took. Used by the agreement test and the bench; sslscan
 * also for the DH group sizes of DHE suites, which the agreement test compares.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { ProtocolVersion } from '../src/probes/tls-hello.js';

export type ProtocolVerdicts = Partial<Record<ProtocolVersion, 'accepted' | 'refused'>>;

export interface ScannerRun {
  tool: string;
  command: string;
  verdicts: ProtocolVerdicts;
  elapsedMs: number;
}

/** The first of `names` found on PATH, or undefined. */
export async function findExecutable(...names: string[]): Promise<string | undefined> {
  for (const name of names) {
    const result = await execa('sh', ['-c', `command -v ${name}`], { reject: false });
    if (result.exitCode === 0 && result.stdout.trim()) return result.stdout.trim();
  }
  return undefined;
}

const SSLSCAN_VERSIONS: Record<string, ProtocolVersion> = {
  'ssl 3': 'SSLv3',
  'tls 1.0': 'TLSv1.0',
  'tls 1.1': 'TLSv1.1',
  'tls 1.2': 'TLSv1.2',
  'tls 1.3': 'TLSv1.3',
};

/** Reads `<protocol type="tls" version="1.0" enabled="1" />` elements from sslscan's XML. */
export function parseSslscanXml(xml: string): ProtocolVerdicts {
  const verdicts: ProtocolVerdicts = {};
  for (const match of xml.matchAll(/<protocol type="(ssl|tls)" version="([\d.]+)" enabled="([01])"/g)) {
    const version = SSLSCAN_VERSIONS[`${match[1]} ${match[2]}`];
    if (version) verdicts[version] = match[3] === '1' ? 'accepted' : 'refused';
  }
  return verdicts;
}

export async function runSslscan(executable: string, host: string, port: number): Promise<ScannerRun> {
  const args = ['--no-ciphersuites', '--no-colour', '--xml=-', `${host}:${port}`];
  const started = performance.now();
  const result = await execa(executable, args, { reject: false, timeout: 120_000 });
  const elapsedMs = performance.now() - started;
  if (result.exitCode !== 0) throw new Error(`sslscan exited ${result.exitCode}: ${result.stderr}`);
  return { tool: 'sslscan', command: `sslscan ${args.join(' ')}`, verdicts: parseSslscanXml(result.stdout), elapsedMs };
}

/**
 * The DH group size sslscan reports for each accepted TLS 1.2 DHE suite
 * (`<cipher … sslversion="TLSv1.2" … id="0x009E" … dhebits="1024" />`), by code point.
 */
export function parseSslscanDhGroups(xml: string): Record<number, number> {
  const groups: Record<number, number> = {};
  for (const match of xml.matchAll(/<cipher\b[^>]*>/g)) {
    const attribute = (name: string): string | undefined => new RegExp(`\\b${name}="([^"]*)"`).exec(match[0])?.[1];
    const id = attribute('id');
    const bits = attribute('dhebits');
    if (attribute('sslversion') === 'TLSv1.2' && id && bits) groups[Number.parseInt(id, 16)] = Number(bits);
  }
  return groups;
}

/** sslscan's TLS 1.2 suite scan, for the DH group sizes it reports. */
export async function runSslscanDhGroups(
  executable: string,
  host: string,
  port: number,
): Promise<Record<number, number>> {
  // TLS 1.2 suites only: the other tests (heartbleed, renegotiation, compression, fallback, groups) are not compared.
  const args = ['--tls12', '--no-heartbleed', '--no-renegotiation', '--no-compression', '--no-fallback', '--no-groups'];
  const result = await execa(executable, [...args, '--no-colour', '--xml=-', `${host}:${port}`], {
    reject: false,
    timeout: 120_000,
  });
  if (result.exitCode !== 0) throw new Error(`sslscan exited ${result.exitCode}: ${result.stderr}`);
  return parseSslscanDhGroups(result.stdout);
}

const TESTSSL_IDS: Record<string, ProtocolVersion> = {
  SSLv3: 'SSLv3',
  TLS1: 'TLSv1.0',
  TLS1_1: 'TLSv1.1',
  TLS1_2: 'TLSv1.2',
  TLS1_3: 'TLSv1.3',
};

/** Reads the protocol findings (`"id": "TLS1_1", "finding": "offered (deprecated)"`) from testssl.sh's JSON. */
export function parseTestsslJson(json: string): ProtocolVerdicts {
  const findings = JSON.parse(json) as Array<{ id?: string; finding?: string }>;
  const verdicts: ProtocolVerdicts = {};
  for (const finding of findings) {
    const version = finding.id ? TESTSSL_IDS[finding.id] : undefined;
    if (!version || typeof finding.finding !== 'string') continue;
    if (finding.finding.startsWith('not offered')) verdicts[version] = 'refused';
    else if (finding.finding.startsWith('offered')) verdicts[version] = 'accepted';
  }
  return verdicts;
}

export async function runTestssl(executable: string, host: string, port: number): Promise<ScannerRun> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'secgate-testssl-'));
  const jsonFile = path.join(directory, 'result.json');
  const args = ['-p', '--quiet', '--color', '0', '--warnings', 'batch', '--jsonfile', jsonFile, `${host}:${port}`];
  try {
    const started = performance.now();
    const result = await execa(executable, args, { reject: false, timeout: 300_000 });
    const elapsedMs = performance.now() - started;
    const json = await readFile(jsonFile, 'utf8').catch(() => {
      throw new Error(`testssl.sh wrote no JSON (exit ${result.exitCode}): ${result.stderr || result.stdout}`);
    });
    const command = `${path.basename(executable)} ${args.join(' ').replace(jsonFile, '<tmp>/result.json')}`;
    return { tool: 'testssl.sh', command, verdicts: parseTestsslJson(json), elapsedMs };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
