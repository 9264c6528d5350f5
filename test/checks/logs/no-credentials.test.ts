import { randomBytes } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import noCredentials from '../../../checks/logs/no-credentials.js';
import {
  BUFFER_FLUSH_MS,
  LATE_LOG_DELAY_MS,
  type LoggingFlaw,
  startLoggingFixture,
} from '../../../fixtures/logs/server.js';
import { runCheckOn, testCheck } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';

/** The reference service, logging to a file as an operator would run it. */
function referenceCase() {
  const logFile = path.join(tmpdir(), `secgate-reference-log-${randomBytes(6).toString('hex')}.log`);
  writeFileSync(logFile, '');
  return {
    target: () => startReferenceTarget({ logger: (line: string) => appendFileSync(logFile, line) }),
    with: { log_file: logFile },
  };
}

/** The fixture's own log, read with the check's defaults unless a case says otherwise. */
function logCase(flaw?: LoggingFlaw, settle: Record<string, number> = {}) {
  const logFile = path.join(tmpdir(), `secgate-log-${randomBytes(6).toString('hex')}.log`);
  return { target: () => startLoggingFixture(logFile, flaw), with: { log_file: logFile, ...settle } };
}

testCheck(noCredentials, {
  // Each case waits for its own log to settle.
  concurrent: true,
  valid: [
    { name: 'a service that logs method, path and status only', ...logCase() },
    { name: 'reference service', ...referenceCase() },
  ],
  invalid: [
    {
      name: 'logs the Authorization header',
      ...logCase('logs-authorization'),
      expect: /Authorization bearer token canary.*present on 1 line/,
    },
    {
      name: 'logs the first 30 characters of the Authorization header',
      ...logCase('logs-authorization-truncated'),
      expect: /Authorization bearer token canary.*present on 1 line.*its first 30 of 32 characters/,
    },
    {
      name: 'logs the last 16 characters of the bearer token (a suffix)',
      ...logCase('logs-authorization-suffix'),
      expect: /Authorization bearer token canary.*present on 1 line.*its last 16 of 32 characters/,
    },
    {
      name: 'logs a 14-character middle slice of the bearer token',
      ...logCase('logs-authorization-middle'),
      expect: /Authorization bearer token canary.*present on 1 line.*its characters 13 to 26 of 32/,
    },
    {
      name: 'logs the bearer token masked as its first 6 and last 6 characters',
      ...logCase('logs-authorization-masked'),
      expect: /Authorization bearer token canary.*present on 1 line.*its first 6 and last 6 of 32 characters/,
    },
    {
      name: 'logs the Authorization header value base64-encoded',
      ...logCase('logs-authorization-base64'),
      expect: /Authorization bearer token canary.*present on 1 line.*all 32 of its characters, base64-encoded/,
    },
    {
      name: 'logs the Authorization header upper-cased',
      ...logCase('logs-authorization-uppercased'),
      expect: /Authorization bearer token canary.*present on 1 line.*all 32 of its characters, case changed/,
    },
    {
      name: 'logs the first 12 characters of the password',
      ...logCase('logs-password-start'),
      expect: /password in a JSON body canary.*present on 1 line.*its first 12 of 32 characters/,
    },
    { name: 'logs cookies', ...logCase('logs-cookie'), expect: /cookie value canary.*present/ },
    { name: 'logs request bodies', ...logCase('logs-body'), expect: /password in a JSON body canary.*present/ },
    {
      name: 'logs request bodies a second after the access line, out of order (grace_ms above the delay)',
      ...logCase('logs-body-late', { grace_ms: LATE_LOG_DELAY_MS + 1_000 }),
      expect: /password in a JSON body canary.*present/,
    },
    {
      name: `buffers every line, bodies included, for ${BUFFER_FLUSH_MS} ms (longer than grace_ms)`,
      ...logCase('logs-body-buffered'),
      expect: /password in a JSON body canary.*present/,
    },
    {
      name: 'logs the probe request but never the closing one',
      ...logCase('stops-logging', { settle_ms: 1_000 }),
      status: 'error',
      expect: /did not log the closing request within 1000 ms/,
    },
    {
      name: 'logs full URLs with query strings',
      ...logCase('logs-query'),
      expect: /token in the query string canary.*present/,
    },
    {
      name: 'the log file is not the service log',
      ...logCase('logs-nothing', { settle_ms: 1_000 }),
      status: 'error',
      expect: /shows none of the probe's requests/,
    },
    {
      name: 'the log file does not exist',
      target: () => startLoggingFixture(path.join(tmpdir(), `secgate-log-${randomBytes(6).toString('hex')}.log`)),
      with: { log_file: '/nonexistent/secgate/service.log' },
      status: 'error',
      expect: /cannot read the service's logs: ENOENT/,
    },
  ],
});

describe('logs.no-credentials with a log command that fails', () => {
  it('says how the command ended, never what it printed nor its arguments', async () => {
    const printed = `user-token-${randomBytes(8).toString('hex')}`;
    const argument = `--token=${randomBytes(8).toString('hex')}`;
    const logFile = path.join(tmpdir(), `secgate-log-${randomBytes(6).toString('hex')}.log`);
    const target = await startLoggingFixture(logFile);
    try {
      const outcome = await runCheckOn(noCredentials, target, {
        log_command: [
          process.execPath,
          '-e',
          `/* ${argument} */ console.log('${printed}'); console.error('${printed}'); process.exit(3)`,
        ],
        settle_ms: 1_000,
      });
      expect(outcome.status).toBe('error');
      expect(outcome.summary).toMatch(/cannot read log command .*node.* \(2 arguments\): node ended with exit code 3/);
      const everything = JSON.stringify(outcome);
      expect(everything).not.toContain(printed);
      expect(everything).not.toContain(argument);
    } finally {
      await target.close();
    }
  });
});
