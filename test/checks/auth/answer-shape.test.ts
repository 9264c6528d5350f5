/**
 * answer-shape on sample answers: which differences between two rejections a
 * client can see (a header, a field one class carries) and which are only
 * per-request noise (a trace id in every body, the date).
 */
import { describe, expect, it } from 'vitest';
import {
  type AnswerParts,
  answerShape,
  comparableHeaders,
  noiseParts,
  shapeDifference,
} from '../../../checks/auth/answer-shape.js';

const answer = (body: object | string, headers: Record<string, string> = {}, status = 401): AnswerParts => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const traceId = (n: number) => `00-${n.toString(16).padStart(32, 'a')}-01`;

/** Whether every answer of every class has one shape, once the noise the classes prove is masked. */
function alike(classes: AnswerParts[][]): boolean {
  const noise = noiseParts(classes);
  return new Set(classes.flat().map((one) => answerShape(one, noise))).size === 1;
}

describe('answer shapes', () => {
  const rows: { name: string; classes: AnswerParts[][]; alike: boolean }[] = [
    {
      name: 'identical answers',
      classes: [[answer({ detail: 'no' }), answer({ detail: 'no' })], [answer({ detail: 'no' })]],
      alike: true,
    },
    {
      // ASP.NET ProblemDetails: a traceId in every body, different every time, in every class.
      name: 'a per-request trace id in every body',
      classes: [
        [
          answer({ title: 'Unauthorized', traceId: traceId(1) }),
          answer({ title: 'Unauthorized', traceId: traceId(2) }),
        ],
        [
          answer({ title: 'Unauthorized', traceId: traceId(3) }),
          answer({ title: 'Unauthorized', traceId: traceId(4) }),
        ],
      ],
      alike: true,
    },
    {
      name: 'a per-request id header on every answer',
      classes: [
        [answer({ d: 'no' }, { 'x-request-id': traceId(1) }), answer({ d: 'no' }, { 'x-request-id': traceId(2) })],
        [answer({ d: 'no' }, { 'x-request-id': traceId(3) }), answer({ d: 'no' }, { 'x-request-id': traceId(4) })],
      ],
      alike: true,
    },
    {
      // express-rate-limit's standard headers: one counter for every request from the address, in every class.
      name: 'a rate-limit counter and a response time on every answer',
      classes: [
        [
          answer({ d: 'no' }, { 'ratelimit-remaining': '9', 'x-response-time': '97.42ms' }),
          answer({ d: 'no' }, { 'ratelimit-remaining': '8', 'x-response-time': '12.5ms' }),
        ],
        [
          answer({ d: 'no' }, { 'ratelimit-remaining': '7', 'x-response-time': '40.1ms' }),
          answer({ d: 'no' }, { 'ratelimit-remaining': '6', 'x-response-time': '8.02ms' }),
        ],
      ],
      alike: true,
    },
    {
      name: 'an Expires date and a cookie with a lifetime on every answer',
      classes: [
        [
          answer({ d: 'no' }, { expires: 'Fri, 04 Dec 2026 14:00:00 GMT' }),
          answer({ d: 'no' }, { expires: 'Fri, 04 Dec 2026 14:00:01 GMT' }),
        ],
        [
          answer({ d: 'no' }, { expires: 'Fri, 04 Dec 2026 14:00:02 GMT' }),
          answer({ d: 'no' }, { expires: 'Fri, 04 Dec 2026 14:00:03 GMT' }),
        ],
      ].map((answers, index) =>
        answers.map((one, at) => ({
          ...one,
          headers: comparableHeaders(
            {
              ...one.headers,
              'set-cookie': `csrf=token-${index}-${at}; Path=/; Expires=Fri, 04 Dec 2026 15:00:0${index * 2 + at} GMT; Max-Age=3600`,
            },
            (v) => v,
          ),
        })),
      ),
      alike: true,
    },
    {
      name: 'a rate-limit header on wrong passwords only',
      classes: [
        [answer({ d: 'no' }), answer({ d: 'no' })],
        [answer({ d: 'no' }, { 'x-ratelimit-remaining': '4' }), answer({ d: 'no' }, { 'x-ratelimit-remaining': '3' })],
      ],
      alike: false,
    },
    {
      // Random within the real-account class, constant (absent from the counter's point of view) in the other.
      name: 'an id that varies in one class and is constant in the other',
      classes: [
        [answer({ d: 'no', ref: 'none-given' }), answer({ d: 'no', ref: 'none-given' })],
        [answer({ d: 'no', ref: traceId(1) }), answer({ d: 'no', ref: traceId(2) })],
      ],
      alike: false,
    },
    {
      name: 'a field only one class carries, varying within it',
      classes: [
        [answer({ d: 'no' }), answer({ d: 'no' })],
        [answer({ d: 'no', attempt: traceId(1) }), answer({ d: 'no', attempt: traceId(2) })],
      ],
      alike: false,
    },
    {
      // Words are compared whole: "wrong password (req 7)" can carry the class and the request together.
      name: 'a message with the request id inside its words',
      classes: [
        [answer({ d: 'unknown user (req 1)' }), answer({ d: 'unknown user (req 2)' })],
        [answer({ d: 'wrong password (req 3)' }), answer({ d: 'wrong password (req 4)' })],
      ],
      alike: false,
    },
    {
      name: 'a short counter in the body (attempts left) is never noise',
      classes: [[answer({ d: 'no', left: 4 }), answer({ d: 'no', left: 3 })], [answer({ d: 'no', left: 4 })]],
      alike: false,
    },
    {
      name: 'one answer per class proves nothing is noise',
      classes: [[answer({ d: 'no', id: traceId(1) })], [answer({ d: 'no', id: traceId(2) })]],
      alike: false,
    },
    {
      name: 'the date and the length differ between any two answers',
      classes: [
        [answer({ d: 'no' }, { date: 'Fri, 04 Dec 2026 14:00:00 GMT', 'content-length': '11' })],
        [answer({ d: 'no' }, { date: 'Fri, 04 Dec 2026 14:00:01 GMT', 'content-length': '11' })],
      ].map((answers) => answers.map((one) => ({ ...one, headers: comparableHeaders(one.headers, (v) => v) }))),
      alike: true,
    },
  ];
  for (const row of rows) {
    it(`${row.alike ? 'alike' : 'tells apart'}: ${row.name}`, () => {
      expect(alike(row.classes)).toBe(row.alike);
    });
  }
});

describe('comparableHeaders', () => {
  it('keeps a cookie’s name and attributes, never its value', () => {
    const headers = comparableHeaders(
      { 'Set-Cookie': ['sid=value-one; Path=/; HttpOnly', 'seen=1; Secure'], Date: 'x' },
      (value) => value,
    );
    expect(headers).toEqual({ 'set-cookie': 'seen; secure | sid; path=/; httponly' });
  });
  it('redacts every other value', () => {
    expect(comparableHeaders({ 'x-token': 'abc' }, () => '[redacted]')).toEqual({ 'x-token': '[redacted]' });
  });
});

describe('shapeDifference', () => {
  it('shows an opaque value (a session id in a header) by its length, never itself', () => {
    const noise = new Set<string>();
    const session = 'sid-'.concat('q7Zk2'.repeat(8));
    const first = answerShape(answer({ d: 'no' }, { 'x-session': session }), noise);
    const second = answerShape(answer({ d: 'no' }), noise);
    const said = shapeDifference(first, second);
    expect(said).toBe('header:x-session: (a 44-character value) against (absent)');
    expect(said).not.toContain(session);
  });
  it('names the differing parts, status and headers first', () => {
    const noise = new Set<string>();
    const first = answerShape(answer({ d: 'no' }, { 'retry-after': '900' }), noise);
    const second = answerShape(answer({ d: 'no' }), noise);
    expect(shapeDifference(first, second)).toBe('header:retry-after: "900" against (absent)');
  });
});
