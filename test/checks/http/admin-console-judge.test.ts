/**
 * http.admin-console's judge, on sample observations: no server. Each row is what a probe could
 * have seen; the verdict and the phrase that names it come from the judge alone.
 */
import { describe, expect, it } from 'vitest';
import { type AdminConsoleProbe, judgeAdminConsoles } from '../../../checks/http/admin-console.js';
import { judgeTable } from '../../harness/judge-table.js';

function answered(path: string, status: number, location?: string): AdminConsoleProbe {
  return {
    path,
    source: path.startsWith('/admin') ? 'Django admin (django.contrib.admin)' : 'phpMyAdmin',
    url: `https://127.0.0.1:8443${path}`,
    answer: { status, location },
    failure: undefined,
  };
}

const refused = [answered('/admin/', 404), answered('/phpmyadmin/', 403)];

judgeTable<AdminConsoleProbe[]>('judgeAdminConsoles', (seen) => judgeAdminConsoles(seen), [
  {
    name: 'every console path refused',
    seen: refused,
    status: 'pass',
    expect: /^none of the 2 default admin console paths is reachable without auth$/,
  },
  {
    name: 'a redirect away from any admin page',
    seen: [answered('/admin/', 302, '/login?next=/admin/'), refused[1] ?? answered('/x', 404)],
    status: 'pass',
    expect: /is reachable without auth$/,
  },
  {
    name: 'the Django admin login served',
    seen: [answered('/admin/', 200), ...refused.slice(1)],
    status: 'fail',
    expect:
      /^\/admin\/: admin console reachable without auth \(200\) \(default of Django admin \(django\.contrib\.admin\)\)$/,
  },
  {
    name: 'a redirect into the admin login',
    seen: [answered('/admin/', 302, '/admin/login/?next=/admin/'), ...refused.slice(1)],
    status: 'fail',
    expect: /^\/admin\/: admin console reachable without auth: redirects \(302\) to \/admin\/login\/\?next=\/admin\/ /,
  },
  {
    name: 'no answer: error',
    seen: [
      ...refused,
      { ...answered('/wp-admin/', 0), answer: undefined, failure: { kind: 'reset', code: 'ECONNRESET', message: 'x' } },
    ],
    status: 'error',
    expect: /^could not observe: \/wp-admin\/: reset \(ECONNRESET\)$/,
  },
  { name: 'nothing requested: fail closed', seen: [], status: 'error', expect: /no console path was requested/ },
]);

describe('judgeAdminConsoles', () => {
  it('shows the Location it judged', () => {
    const outcome = judgeAdminConsoles([answered('/admin/', 302, '/admin/login/')]);
    expect(outcome.observations[0]?.actual).toEqual({ status: 302, location: '/admin/login/' });
  });
});
