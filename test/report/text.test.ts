import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { CheckRecord } from '../../src/evidence/types.js';
import { formatCheckLine, formatObservation } from '../../src/report/text.js';

const plain = new Chalk({ level: 0 });
const record: CheckRecord = {
  id: 'http.headers',
  check: 'http.headers',
  title: 'Security headers on every response',
  source: 'seed 002, item 11',
  status: 'fail',
  summary: 'Server: nginx\u001b[2K\u001b[1AGATE PASSED',
  remediation: 'add the headers',
  durationMs: 1234,
  observations: [],
};

describe('terminal text', () => {
  it('one line per check: status, id, compact duration, summary', () => {
    expect(formatCheckLine({ ...record, summary: 'HSTS missing on 404' }, plain, 14)).toBe(
      'FAIL  http.headers     1.2s  HSTS missing on 404',
    );
  });

  it('never passes a target-supplied escape sequence to the terminal', () => {
    const line = formatCheckLine(record, plain);
    expect(line).not.toContain('\u001b');
    expect(line).toContain('Server: nginx?[2K?[1AGATE PASSED');
    expect(formatObservation({ probe: 'GET /', actual: 'a\u0007b', ok: false }, plain)).toBe('✗ GET / — got a?b');
  });
});
