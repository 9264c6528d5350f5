/**
 * What web frameworks serve when nobody turns it off, as data: admin consoles
 * at their default paths, the signatures of their debug pages (the technical
 * 404/500 pages that list routes, settings or a stack trace), and their debug
 * consoles at their default paths with what only each serves there. Each
 * entry names who serves it, for the failure message; the checks that use
 * them (http.admin-console, http.debug-pages) only probe and judge.
 */

export interface AdminConsole {
  path: string;
  source: string;
}

/** Default admin consoles: reachable from the internet, each is a login form for the whole database. */
export const ADMIN_CONSOLES: readonly AdminConsole[] = [
  { path: '/admin/', source: 'Django admin (django.contrib.admin)' },
  { path: '/admin/login/', source: 'Django admin login' },
  { path: '/admin', source: 'Django admin without the trailing slash (APPEND_SLASH redirects)' },
  { path: '/wp-admin/', source: 'WordPress admin' },
  { path: '/phpmyadmin/', source: 'phpMyAdmin' },
  { path: '/adminer.php', source: 'Adminer' },
  { path: '/rails/db', source: 'Rails rails_db console' },
];

/** Where a redirect lands on an admin console (its path, not its query: `/login?next=/admin/` is no console). */
export const ADMIN_LOCATION = /\/(admin|wp-admin|wp-login\.php|phpmyadmin)(\/|$)/i;

export interface DebugSignature {
  id: string;
  /** Matched against the body of any answer: a phrase only that framework's debug page prints. */
  pattern: RegExp;
  source: string;
}

/**
 * One V8 stack frame, as any Node framework's development error handler prints
 * it: at the start of a line (a newline, an HTML `<br>` or a JSON `\n`), indented
 * with spaces or `&nbsp;`, `at`, up to a few words of function name, then an
 * absolute POSIX, Windows or file:/// path with `:line:column`. Prose that says
 * "at" has no such path, so an error message cannot pass for a frame.
 */
const NODE_STACK_FRAME =
  /(?:^|\n|<br>|\\n)(?:[ \t]|&nbsp;)+at (?:[^\s()]+ ){0,4}\(?(?:\/|[A-Za-z]:\\|file:\/\/\/(?:[A-Za-z]:)?)[^\s()<>:]*:\d+:\d+\)?/;

/** Debug pages: with them on, any error lists the routes, the settings or the code. Samples in the test. */
export const DEBUG_SIGNATURES: readonly DebugSignature[] = [
  {
    id: 'django-technical-404',
    pattern: /Using the URLconf defined in|Django tried these URL patterns/,
    source: 'Django technical 404 page (DEBUG = True): lists every URL pattern',
  },
  {
    id: 'django-technical-500',
    // Django 4+ writes a typographic apostrophe (’), raw or as an entity; older releases a straight one.
    pattern:
      /You(?:'|\u2019|&#x27;|&#39;|&rsquo;|&#8217;|&#x2019;)re seeing this error because you have <code>DEBUG = True<\/code>|<code>DEBUG = True<\/code> in your\s+Django settings file/,
    source: 'Django technical 500 page (DEBUG = True): traceback and settings',
  },
  {
    id: 'werkzeug-debugger',
    pattern: /Werkzeug Debugger|The debugger caught an exception in your WSGI application/,
    source: 'Flask/Werkzeug interactive debugger (a console on the server)',
  },
  {
    id: 'rails-debug-exceptions',
    pattern: /Action Controller: Exception caught|<h1>Routing Error<\/h1>/,
    source: 'Rails debug exceptions page (config.consider_all_requests_local): routes and trace',
  },
  {
    id: 'laravel-ignition',
    pattern: /Illuminate\\[A-Za-z\\]+Exception|vendor\/laravel\/framework/,
    source: 'Laravel debug page (APP_DEBUG=true): stack trace and environment',
  },
  {
    id: 'aspnet-developer-exception',
    pattern: /An unhandled exception occurred while processing the request\.|Developer Exception Page/,
    source: 'ASP.NET Core developer exception page',
  },
  {
    id: 'express-stack-trace',
    // A route error passes through Layer.handle; a body-parser error (malformed JSON) never does.
    pattern:
      /at Layer\.handle \[as handle_request\]|node_modules[\\/](?:express[\\/]lib[\\/]|(?:body-parser|raw-body)[\\/][\w.\\/-]+\.js:\d+:\d+)/,
    source: 'Express error handler in development (NODE_ENV unset): stack trace',
  },
  {
    id: 'spring-trace',
    pattern: /"trace"\s*:\s*"[a-z]+(\.[a-zA-Z$_]+)+Exception/,
    source: 'Spring Boot error with server.error.include-stacktrace',
  },
  {
    id: 'node-stack-trace',
    pattern: NODE_STACK_FRAME,
    source: 'Node.js stack trace (the absolute paths and line numbers of the server code)',
  },
];

export interface DebugConsole {
  id: string;
  /** Requested with GET and no credentials; several entries may share one path (one request). */
  path: string;
  /** What only this console serves there: a generic 200 (an app's shell, a catch-all page) lacks it. */
  pattern: RegExp;
  source: string;
}

/**
 * Framework debug consoles at their default paths: each runs code, dumps the configuration or the
 * traffic of the service. Matched only on the answer to their own path, first entry first (the more
 * telling entries of a shared path come first). Samples in the test. The heap dump is recognised in
 * the Actuator index that links it, never downloaded: requesting it makes the JVM dump its heap.
 */
export const DEBUG_CONSOLES: readonly DebugConsole[] = [
  {
    id: 'werkzeug-console',
    path: '/console',
    pattern: /Interactive Console|[?&]__debugger__=yes/,
    source: 'Werkzeug interactive console (runs Python on the server)',
  },
  {
    id: 'spring-actuator-heapdump',
    path: '/actuator',
    pattern: /"_links"\s*:[\s\S]*"heapdump"\s*:\s*\{\s*"href"/,
    source: 'Spring Boot Actuator index, linking /actuator/heapdump (the process memory, secrets included)',
  },
  {
    id: 'spring-actuator',
    path: '/actuator',
    pattern: /"_links"\s*:[\s\S]*"href"\s*:\s*"[^"]*\/actuator[/"]/,
    source: 'Spring Boot Actuator index (every exposed management endpoint)',
  },
  {
    id: 'spring-actuator-env',
    path: '/actuator/env',
    pattern: /"propertySources"\s*:\s*\[|"activeProfiles"\s*:\s*\[/,
    source: 'Spring Boot Actuator env endpoint (the configuration properties)',
  },
  {
    id: 'symfony-profiler',
    path: '/_profiler',
    pattern: /Symfony Profiler/,
    source: 'Symfony web profiler (every recorded request, its session and configuration)',
  },
  {
    // Where /_profiler redirects: the profiler's own page, served 200.
    id: 'symfony-profiler-search',
    path: '/_profiler/empty/search/results?limit=10',
    pattern: /Symfony Profiler/,
    source: 'Symfony web profiler search (every recorded request, its session and configuration)',
  },
  {
    id: 'django-debug-toolbar',
    path: '/__debug__/',
    pattern: /id="djDebug"|\bdjdt-/,
    source: 'django-debug-toolbar (SQL, settings and request data of every page)',
  },
  {
    id: 'go-pprof',
    path: '/debug/pprof/',
    pattern: /Types of profiles available/,
    source: 'Go net/http/pprof (goroutine stacks, heap and CPU profiles)',
  },
  {
    id: 'laravel-telescope',
    path: '/telescope',
    pattern: /window\.Telescope\s*=|<title>\s*Telescope\b/,
    source: 'Laravel Telescope (every request, query, job and exception, with their data)',
  },
  {
    id: 'laravel-horizon',
    path: '/horizon',
    pattern: /window\.Horizon\s*=|<title>\s*Horizon\b/,
    source: 'Laravel Horizon (queues and their job payloads)',
  },
  {
    id: 'laravel-debugbar',
    path: '/_debugbar/assets/javascript',
    pattern: /PhpDebugBar/,
    source: 'Laravel Debugbar (its assets are served: the debug bar is on)',
  },
  {
    id: 'laravel-debugbar-open',
    path: '/_debugbar/open',
    pattern: /"utime"\s*:\s*"?\d/,
    source: 'Laravel Debugbar open handler (the stored requests, with their queries and session)',
  },
];

/** Pure: the console the answer to a console path shows, if any (only that path's entries are tried). */
export function debugConsoleOf(path: string, body: string): DebugConsole | undefined {
  return DEBUG_CONSOLES.find((console) => console.path === path && console.pattern.test(body));
}

/** Pure: the debug page a body is, if any. */
export function debugSignatureOf(body: string): DebugSignature | undefined {
  return DEBUG_SIGNATURES.find((signature) => signature.pattern.test(body));
}

export interface ExposureJudgement {
  ok: boolean;
  note: string;
}

/** Pure: is the admin console reachable without authentication at this answer? */
export function judgeAdminResponse(status: number, location: string | undefined): ExposureJudgement {
  if (status >= 200 && status < 300) return { ok: false, note: `admin console reachable without auth (${status})` };
  if (status >= 300 && status < 400) {
    let target = location ?? '';
    try {
      target = new URL(target, 'https://target.invalid').pathname;
    } catch {
      // A Location that is no URL is judged as written.
    }
    return location !== undefined && ADMIN_LOCATION.test(target)
      ? { ok: false, note: `admin console reachable without auth: redirects (${status}) to ${location}` }
      : { ok: true, note: `redirects (${status}) away from the console: ${location ?? 'no Location'}` };
  }
  if (status >= 400 && status < 500) return { ok: true, note: `not reachable (${status})` };
  return { ok: false, note: `answered ${status}: a server error, not a refusal` };
}
