/**
 * Framework defaults as data: drf-spectacular docs (http.docs-disabled), the
 * Django admin as its own finding (http.admin-console), Django's technical
 * 404 (http.debug-pages) — each failing on the cookie-session fixture's flaw
 * and passing on its correct mode and on the reference service; each
 * signature proven on samples that must and must not match.
 */
import { describe, expect, it } from 'vitest';
import adminConsole from '../../../checks/http/admin-console.js';
import debugPages from '../../../checks/http/debug-pages.js';
import docsDisabled from '../../../checks/http/docs-disabled.js';
import {
  DEBUG_CONSOLES,
  DEBUG_SIGNATURES,
  debugConsoleOf,
  debugSignatureOf,
  judgeAdminResponse,
} from '../../../checks/http/framework-defaults.js';
import { consoleSample, NOT_CONSOLE_BODIES, startConsoleFixture } from '../../../fixtures/http/console-servers.js';
import { startMisconfiguredServer } from '../../../fixtures/http/misconfigured-servers.js';
import { startSpaFixture } from '../../../fixtures/http/spa-servers.js';
import { testCheck } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';
import { cookieFixture } from '../auth/support/cookie-fixture-target.js';

const reference = () => startReferenceTarget();

testCheck(docsDisabled, {
  valid: [{ name: 'cookie-session fixture, correct mode', target: cookieFixture() }],
  invalid: [
    {
      name: 'drf-spectacular schema and Swagger UI routed',
      target: cookieFixture({ flaws: ['framework-docs'] }),
      expect: /\/api\/schema\/ served with 200 \(default of Django REST framework \+ drf-spectacular schema/,
    },
  ],
});

testCheck(adminConsole, {
  valid: [
    { name: 'reference service', target: reference },
    { name: 'cookie-session fixture, correct mode', target: cookieFixture() },
  ],
  invalid: [
    {
      name: 'Django admin routed',
      target: cookieFixture({ flaws: ['admin-console'] }),
      expect:
        /\/admin\/: admin console reachable without auth: redirects \(302\) to \/admin\/login\/\?next=\/admin\/ \(default of Django admin/,
    },
  ],
});

testCheck(debugPages, {
  valid: [
    { name: 'reference service', target: reference },
    { name: 'cookie-session fixture, correct mode', target: cookieFixture() },
    { name: 'a JSON 400 on malformed JSON', target: () => startMisconfiguredServer() },
    { name: "a single-page app: every console path gets the app's shell (200)", target: () => startSpaFixture() },
    { name: 'every console path answers 404', target: () => startConsoleFixture() },
  ],
  invalid: [
    {
      name: 'Express 4 with NODE_ENV unset: the body-parser stack trace of a malformed JSON body',
      target: () => startMisconfiguredServer({ malformedJson: 'express-dev' }),
      expect:
        /^debug page: \/api\/v1\/auth\/login answered 400 with the Express error handler in development \(NODE_ENV unset\): stack trace$/,
    },
    {
      name: 'Django 4+ technical 500 (a typographic apostrophe in its explanation)',
      target: () => startMisconfiguredServer({ malformedJson: 'django-debug' }),
      expect:
        /^debug page: \/api\/v1\/auth\/login answered 500 with the Django technical 500 page \(DEBUG = True\): traceback and settings$/,
    },
    {
      name: 'DEBUG = True',
      target: cookieFixture({ flaws: ['debug-pages'] }),
      expect: /debug page: \/secgate-no-such-page-[0-9a-f]+ answered 404 with the Django technical 404 page/,
    },
  ],
});

describe('debug page signatures', () => {
  const samples: Record<string, { match: string; miss: string }> = {
    'django-technical-404': {
      match: 'Using the URLconf defined in <code>mysite.urls</code>, Django tried these URL patterns',
      miss: '<h1>Not Found</h1><p>The requested resource was not found on this server.</p>',
    },
    'django-technical-500': {
      match: 'You&#x27;re seeing this error because you have <code>DEBUG = True</code> in your Django settings file.',
      miss: '<h1>Server Error (500)</h1>',
    },
    'werkzeug-debugger': {
      match: '<title>ZeroDivisionError // Werkzeug Debugger</title>',
      miss: '<title>500 Internal Server Error</title>',
    },
    'rails-debug-exceptions': {
      match: '<header><h1>Routing Error</h1></header><p>No route matches [GET] "/x"</p>',
      miss: "<h1>The page you were looking for doesn't exist.</h1>",
    },
    'laravel-ignition': {
      match: 'Illuminate\\Database\\QueryException in /var/www/vendor/laravel/framework/src',
      miss: '<title>Server Error</title><div>500 | Server Error</div>',
    },
    'aspnet-developer-exception': {
      match: '<h1>An unhandled exception occurred while processing the request.</h1>',
      miss: '<h1>Error.</h1><h2>An error occurred while processing your request.</h2>',
    },
    'express-stack-trace': {
      match:
        'TypeError: x is undefined<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)',
      miss: '<pre>Cannot GET /x</pre>',
    },
    'node-stack-trace': {
      match: 'Error: boom\n    at handler (/srv/app/server.js:10:5)\n    at process.processTicksAndRejections',
      miss: '{"error":"Unexpected token } in JSON at position 12"}',
    },
    'spring-trace': {
      match:
        '{"status":500,"error":"Internal Server Error","trace":"java.lang.IllegalStateException: boom\\n\\tat com.example"}',
      miss: '{"status":404,"error":"Not Found","path":"/x"}',
    },
  };
  it('every signature has a sample, and no sample is left without a signature', () => {
    expect(Object.keys(samples).sort()).toEqual(DEBUG_SIGNATURES.map((signature) => signature.id).sort());
  });
  it.each(Object.entries(samples))('%s', (id, sample) => {
    expect(debugSignatureOf(sample.match)?.id).toBe(id);
    expect(debugSignatureOf(sample.miss)).toBeUndefined();
  });
});

describe('debug page signatures beyond the one sample each', () => {
  it.each([
    ['django-technical-500', 'You\u2019re seeing this error because you have <code>DEBUG = True</code> in your'],
    ['django-technical-500', 'You&rsquo;re seeing this error because you have <code>DEBUG = True</code>'],
    ['django-technical-500', 'You&#8217;re seeing this error because you have <code>DEBUG = True</code>'],
    ['django-technical-500', 'because you have <code>DEBUG = True</code> in your\n    Django settings file'],
    [
      'express-stack-trace',
      '<pre>SyntaxError: Unexpected end of JSON input<br> &nbsp; &nbsp;at JSON.parse (&lt;anonymous&gt;)<br> &nbsp; &nbsp;at parse (/srv/app/node_modules/body-parser/lib/types/json.js:92:19)</pre>',
    ],
    ['express-stack-trace', 'at invokeCallback (C:\\app\\node_modules\\raw-body\\index.js:238:16)'],
    [
      'node-stack-trace',
      '<pre>TypeError: x is undefined<br> &nbsp; &nbsp;at handler (/srv/app/routes/users.js:12:7)</pre>',
    ],
    [
      'node-stack-trace',
      'Error: boom\n    at async Promise.all (index 0)\n    at async main (file:///srv/app/server.mjs:40:3)',
    ],
    ['node-stack-trace', 'Error: boom\n    at Object.<anonymous> (C:\\srv\\app\\server.js:3:9)'],
    ['node-stack-trace', '{"message":"boom","stack":"Error: boom\\n    at handler (/srv/app/server.js:10:5)"}'],
  ])('%s: %s', (id, body) => {
    expect(debugSignatureOf(body)?.id).toBe(id);
  });
  it.each([
    '{"error":"Unexpected end of JSON input at position 11"}',
    '{"error":"bad request","detail":"failed at /api/v1/auth/login"}',
    '<pre>Cannot POST /api/v1/auth/login</pre>',
    '<p>Invalid input at line 1:12 of the body</p>',
    '{"error":"invalid","at":"/srv/app/x.js:1:2"}',
  ])('no debug page: %s', (body) => {
    expect(debugSignatureOf(body)).toBeUndefined();
  });
});

/** Each debug console served at its default path, and the failure that names it. */
const CONSOLE_FAILURES: [id: string, expect: RegExp][] = [
  ['werkzeug-console', /^debug page: \/console answered 200 with the Werkzeug interactive console/],
  [
    'spring-actuator-heapdump',
    /^debug page: \/actuator answered 200 with the Spring Boot Actuator index, linking \/actuator\/heapdump/,
  ],
  ['spring-actuator', /^debug page: \/actuator answered 200 with the Spring Boot Actuator index \(every exposed/],
  ['spring-actuator-env', /^debug page: \/actuator\/env answered 200 with the Spring Boot Actuator env endpoint/],
  ['symfony-profiler', /^debug page: \/_profiler answered 200 with the Symfony web profiler \(/],
  [
    'symfony-profiler-search',
    /^debug page: \/_profiler\/empty\/search\/results\?limit=10 answered 200 with the Symfony web profiler search/,
  ],
  ['django-debug-toolbar', /^debug page: \/__debug__\/ answered 200 with the django-debug-toolbar/],
  ['go-pprof', /^debug page: \/debug\/pprof\/ answered 200 with the Go net\/http\/pprof/],
  ['laravel-telescope', /^debug page: \/telescope answered 200 with the Laravel Telescope/],
  ['laravel-horizon', /^debug page: \/horizon answered 200 with the Laravel Horizon/],
  [
    'laravel-debugbar',
    /^debug page: \/_debugbar\/assets\/javascript answered 200 with the Laravel Debugbar \(its assets/,
  ],
  ['laravel-debugbar-open', /^debug page: \/_debugbar\/open answered 200 with the Laravel Debugbar open handler/],
];

const consoleEntry = (id: string) => {
  const entry = DEBUG_CONSOLES.find((candidate) => candidate.id === id);
  if (entry === undefined) throw new Error(`no debug console ${id}`);
  return entry;
};

testCheck(debugPages, {
  valid: [],
  invalid: CONSOLE_FAILURES.map(([id, expect]) => ({
    name: `${id} served at its default path`,
    target: () => startConsoleFixture(consoleEntry(id)),
    expect,
  })),
});

describe('debug console signatures', () => {
  it('every console has a failing row, and no row is left without a console', () => {
    expect(CONSOLE_FAILURES.map(([id]) => id).sort()).toEqual(DEBUG_CONSOLES.map((entry) => entry.id).sort());
  });
  it.each(DEBUG_CONSOLES.map((entry) => [entry.id, entry.path]))('%s at %s', (id, path) => {
    expect(debugConsoleOf(path, consoleSample(id, 'https://127.0.0.1:8443').body)?.id).toBe(id);
    for (const body of NOT_CONSOLE_BODIES) expect(debugConsoleOf(path, body)).toBeUndefined();
  });
  it("a console's page at another console's path is no match there", () => {
    expect(debugConsoleOf('/horizon', consoleSample('laravel-telescope', 'https://x').body)).toBeUndefined();
  });
});

describe('judgeAdminResponse', () => {
  it.each([
    [200, undefined, false],
    [302, '/admin/login/?next=/admin/', false],
    [301, '/admin/', false],
    [302, '/login?next=/admin/', true],
    [404, undefined, true],
    [403, undefined, true],
    [502, undefined, false],
  ])('%d %s → ok %s', (status, location, ok) => {
    expect(judgeAdminResponse(status, location).ok).toBe(ok);
  });
});
