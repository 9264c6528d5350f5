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
import { DEBUG_SIGNATURES, debugSignatureOf, judgeAdminResponse } from '../../../checks/http/framework-defaults.js';
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
  ],
  invalid: [
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
