import httpStatus from '../../../checks/http/status.js';
import { startHttpFixture, startUnreachableTarget } from '../../../fixtures/http/servers.js';
import { testCheck } from '../../harness/check-tester.js';
import { validTargets } from './valid-targets.js';

testCheck(httpStatus, {
  valid: [
    ...validTargets(),
    { name: 'health with a body match', target: () => startHttpFixture(), with: { body_contains: '"status":"ok"' } },
    {
      name: 'a protected path answering 401',
      target: () => startHttpFixture(),
      with: { path: '/api/v1/users/me', status: 401 },
    },
  ],
  invalid: [
    {
      name: 'health answers 503',
      target: () => startHttpFixture({ flaw: 'health-503' }),
      expect: /answered 503, expected 200/,
    },
    {
      name: 'body lacks the expected text',
      target: () => startHttpFixture(),
      with: { body_contains: 'healthy' },
      expect: /body lacks "healthy"/,
    },
    {
      name: 'the text is not in the first MiB of a longer body: cannot tell',
      target: () => startHttpFixture({ spaCatchAll: 'oversized' }),
      with: { path: '/app', body_contains: 'Swagger UI' },
      status: 'error',
      expect: /body longer than the probe reads \(1 MiB\): cannot tell whether it contains "Swagger UI"/,
    },
    {
      name: 'target refuses connections',
      target: startUnreachableTarget,
      status: 'error',
      expect: /refused \(ECONNREFUSED\)/,
    },
    {
      name: 'certificate not trusted without the configured CA',
      target: async () => {
        const handle = await startHttpFixture();
        // Without the fixture's CA the system store cannot verify the chain: error, never pass.
        const { caPem: _withoutCa, ...target } = handle.context.target;
        return { ...handle, context: { ...handle.context, target } };
      },
      status: 'error',
      expect: /tls \(/,
    },
  ],
});
