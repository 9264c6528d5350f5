/**
 * http.debug-pages' judge, on sample observations: no server. Each row is what a probe could have
 * seen (the bodies already classified by debugSignatureOf, whose samples are in
 * framework-defaults.test.ts); the verdict and the phrase that names it come from the judge alone.
 */
import { describe, expect, it } from 'vitest';
import { type DebugPageProbe, judgeDebugPages } from '../../../checks/http/debug-pages.js';
import { judgeTable } from '../../harness/judge-table.js';

function answered(path: string, status: number, debugPage?: string): DebugPageProbe {
  return {
    method: path === '/api/v1/auth/login' ? 'POST' : 'GET',
    path,
    url: `https://127.0.0.1:8443${path}`,
    why: 'a sample',
    console: false,
    answer: { status, debugPage },
    failure: undefined,
  };
}

/** A debug console's path answered `status`, its body matched to `consolePage` (a DEBUG_CONSOLES id) or not. */
function consolePath(path: string, status: number, consolePage?: string): DebugPageProbe {
  return { ...answered(path, status, consolePage), why: 'a debug console path', console: true };
}

const plain = [
  answered('/secgate-no-such-page-0a1b', 404),
  answered('/api/v1/secgate-no-such-page-0a1b', 404),
  answered('/api/v1/auth/login', 400),
];

judgeTable<DebugPageProbe[]>('judgeDebugPages', (seen) => judgeDebugPages(seen), [
  {
    name: 'plain error answers',
    seen: plain,
    status: 'pass',
    expect: /^none of the 3 error answers is a framework debug page$/,
  },
  {
    name: "Django's technical 404",
    seen: [answered('/secgate-no-such-page-0a1b', 404, 'django-technical-404'), ...plain.slice(1)],
    status: 'fail',
    expect:
      /^debug page: \/secgate-no-such-page-0a1b answered 404 with the Django technical 404 page \(DEBUG = True\): lists every URL pattern$/,
  },
  {
    name: 'a technical 500 on malformed JSON, next to a Werkzeug console',
    seen: [
      ...plain.slice(0, 2),
      answered('/api/v1/auth/login', 500, 'django-technical-500'),
      answered('/boom', 500, 'werkzeug-debugger'),
    ],
    status: 'fail',
    expect:
      /^debug page: \/api\/v1\/auth\/login answered 500 with the Django technical 500 page.*; \/boom answered 500 with the Flask\/Werkzeug interactive debugger/,
  },
  {
    name: 'a debug page is a failure even when another request got no answer',
    seen: [
      answered('/x', 500, 'express-stack-trace'),
      { ...answered('/y', 0), answer: undefined, failure: { kind: 'reset', code: 'ECONNRESET', message: 'reset' } },
    ],
    status: 'fail',
    expect: /\/x answered 500 with the Express error handler/,
  },
  {
    name: "console paths refused, or answered with a page that is no console (an app's shell)",
    seen: [
      ...plain,
      consolePath('/console', 404),
      consolePath('/actuator/env', 401, 'spring-actuator-env'),
      consolePath('/telescope', 403, 'laravel-telescope'),
      consolePath('/debug/pprof/', 200),
    ],
    status: 'pass',
    expect:
      /^none of the 3 error answers is a framework debug page; none of the 4 debug console paths serves its console$/,
  },
  {
    name: 'the Werkzeug console served',
    seen: [...plain, consolePath('/console', 200, 'werkzeug-console')],
    status: 'fail',
    expect: /^debug page: \/console answered 200 with the Werkzeug interactive console \(runs Python on the server\)$/,
  },
  {
    name: 'the Actuator index served, linking the heap dump',
    seen: [...plain, consolePath('/actuator', 200, 'spring-actuator-heapdump')],
    status: 'fail',
    expect:
      /^debug page: \/actuator answered 200 with the Spring Boot Actuator index, linking \/actuator\/heapdump \(the process memory, secrets included\)$/,
  },
  {
    name: 'a console path that gets a debug page (any status) fails as that debug page',
    seen: [...plain, consolePath('/__debug__/', 404, 'django-technical-404')],
    status: 'fail',
    expect: /^debug page: \/__debug__\/ answered 404 with the Django technical 404 page/,
  },
  {
    name: 'a request without an answer: error',
    seen: [
      ...plain,
      {
        ...answered('/y', 0),
        answer: undefined,
        failure: { kind: 'timeout', code: undefined, message: 'took too long' },
      },
    ],
    status: 'error',
    expect: /^could not observe: \/y: timeout: took too long$/,
  },
  {
    name: 'nothing sent: fail closed',
    seen: [],
    status: 'error',
    expect: /no request was sent/,
  },
]);

describe('judgeDebugPages', () => {
  it('names the signature in the evidence', () => {
    const outcome = judgeDebugPages([answered('/x', 500, 'laravel-ignition')]);
    expect(outcome.observations[0]).toMatchObject({
      ok: false,
      actual: { status: 500, debug_page: 'laravel-ignition' },
    });
  });
});
