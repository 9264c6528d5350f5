import { judgeLogs, type LogsSeen } from '../../../checks/logs/no-credentials.js';
import { judgeTable } from '../../harness/judge-table.js';

const kinds = ['Authorization bearer token', 'cookie value', 'password in a JSON body', 'token in the query string'];
const canaryRequest = { probe: 'GET /api/v1/m?access_token=<canary> with bearer and cookie canaries', closing: false };
const loginRequest = { probe: 'POST /api/v1/login/access-token with a canary password', closing: false };
const closingRequest = { probe: 'GET /api/v1/c after the canary requests were answered', closing: true };

/** A log read to its closing line, with no canary in it: every case below changes one thing. */
function clean(changes: Partial<LogsSeen> = {}): LogsSeen {
  return {
    source: { describe: 'log file service.log' },
    probePath: '/api/v1/m',
    closingPath: '/api/v1/c',
    requests: [
      { ...canaryRequest, answer: { status: 401 } },
      { ...loginRequest, answer: { status: 400 } },
      { ...closingRequest, answer: { status: 401 } },
    ],
    log: { characters: 300, lines: 4, markerSeen: true, closingSeen: true },
    canaries: kinds.map((kind) => ({ kind, lines: [], shapes: [] })),
    ...changes,
  };
}
const leaking = (kind: string, lines: number[], shapes: string[] = ['all 32 of its characters']) =>
  kinds.map((each) => ({ kind: each, lines: each === kind ? lines : [], shapes: each === kind ? shapes : [] }));
const options = { settle_ms: 10_000, grace_ms: 500 };

judgeTable('logs.no-credentials judge', (seen: LogsSeen) => judgeLogs(seen, options), [
  {
    name: 'both requests logged, no canary',
    seen: clean(),
    status: 'pass',
    expect: /^none of 4 canary credentials appears in log file service\.log$/,
  },
  {
    name: 'the Authorization header logged',
    seen: clean({ canaries: leaking('Authorization bearer token', [2]) }),
    status: 'fail',
    expect: /^the service logged credentials: Authorization bearer token$/,
    observations: /present on 1 line\(s\) of the new log output \(lines 2\): all 32 of its characters"/,
  },
  {
    name: 'the end of the bearer token on one line, its masked ends on another: both shapes named',
    seen: clean({
      canaries: leaking(
        'Authorization bearer token',
        [2, 5],
        ['its last 16 of 32 characters', 'its first 6 and last 6 of 32 characters, case changed'],
      ),
    }),
    status: 'fail',
    expect: /^the service logged credentials: Authorization bearer token$/,
    observations:
      /\(lines 2, 5\): its last 16 of 32 characters; its first 6 and last 6 of 32 characters, case changed"/,
  },
  {
    name: 'two canaries on many lines, only five line numbers named',
    seen: clean({
      canaries: kinds.map((kind, index) => ({
        kind,
        lines: index < 2 ? [1, 2, 3, 4, 5, 6, 7] : [],
        shapes: index < 2 ? ['all 32 of its characters'] : [],
      })),
    }),
    status: 'fail',
    expect: /logged credentials: Authorization bearer token, cookie value$/,
    observations: /present on 7 line\(s\) of the new log output \(lines 1, 2, 3, 4, 5\): all 32 of its characters"/,
  },
  {
    name: 'the log source could not be opened',
    seen: clean({ source: { error: 'ENOENT: no such file' }, requests: [], log: undefined }),
    status: 'error',
    expect: /cannot read the service's logs: ENOENT/,
  },
  {
    name: 'a canary request got no answer',
    seen: clean({
      requests: [
        { ...canaryRequest, answer: { status: 401 } },
        { ...loginRequest, answer: { error: 'ECONNRESET' } },
      ],
      log: undefined,
    }),
    status: 'error',
    expect: /could not send the canary requests: ECONNRESET/,
  },
  {
    name: 'the closing request got no answer',
    seen: clean({
      requests: [...clean().requests.slice(0, 2), { ...closingRequest, answer: { error: 'timed out' } }],
      log: undefined,
    }),
    status: 'error',
    expect: /could not send the closing request: timed out/,
  },
  {
    name: 'the log could not be read',
    seen: clean({ readError: 'tail ended with exit code 1', log: undefined }),
    status: 'error',
    expect: /cannot read log file service\.log: tail ended with exit code 1/,
  },
  {
    name: "not the service's log: the probe request is not in it",
    seen: clean({ log: { characters: 10, lines: 1, markerSeen: false, closingSeen: false } }),
    status: 'error',
    expect: /shows none of the probe's requests within 10000 ms/,
  },
  {
    name: 'the closing request was never logged: what a buffer holds was not read, even with no canary seen',
    seen: clean({ log: { characters: 10, lines: 1, markerSeen: true, closingSeen: false } }),
    status: 'error',
    expect: /did not log the closing request within 10000 ms \(settle_ms\)/,
  },
  {
    name: 'a canary found before the closing request was logged: the leak is proven, whatever was not read',
    seen: clean({
      log: { characters: 10, lines: 1, markerSeen: true, closingSeen: false },
      canaries: leaking('password in a JSON body', [1]),
    }),
    status: 'fail',
    expect: /^the service logged credentials: password in a JSON body$/,
    observations: /present on 1 line\(s\)/,
  },
  {
    name: 'a log that was never read is not clean',
    seen: clean({ log: undefined }),
    status: 'error',
    expect: /was not read after the closing request/,
  },
]);
