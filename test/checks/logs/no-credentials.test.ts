import { randomBytes } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import noCredentials, { findCanaries } from '../../../checks/logs/no-credentials.js';
import { type LoggingFlaw, startLoggingFixture } from '../../../fixtures/logs/server.js';
import { testCheck } from '../../harness/check-tester.js';
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

function logCase(flaw?: LoggingFlaw) {
  const logFile = path.join(tmpdir(), `secgate-log-${randomBytes(6).toString('hex')}.log`);
  return { target: () => startLoggingFixture(logFile, flaw), with: { log_file: logFile, settle_ms: 1_000 } };
}

testCheck(noCredentials, {
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
    { name: 'logs cookies', ...logCase('logs-cookie'), expect: /cookie value canary.*present/ },
    { name: 'logs request bodies', ...logCase('logs-body'), expect: /password in a JSON body canary.*present/ },
    {
      name: 'logs full URLs with query strings',
      ...logCase('logs-query'),
      expect: /token in the query string canary.*present/,
    },
    {
      name: 'the log file is not the service log',
      ...logCase('logs-nothing'),
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

describe('findCanaries', () => {
  it('finds raw, URL-encoded and base64 forms and reports line numbers only', () => {
    const value = 'secgate-canary-x-0123';
    const text = `a\n${encodeURIComponent(value)}\nb\n${Buffer.from(value).toString('base64')}\n`;
    expect(findCanaries(text, [{ kind: 'k', value }]).get('k')).toEqual([2, 4]);
    expect(findCanaries('nothing here', [{ kind: 'k', value }]).size).toBe(0);
  });
});
