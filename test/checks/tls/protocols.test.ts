import { describe, expect, it } from 'vitest';
import tlsProtocols, {
  assessProtocols,
  judgeSuite,
  protocolsParams,
  scanTargetFromUrl,
} from '../../../checks/tls/protocols.js';
import {
  acceptsTls11,
  closedPort,
  dheServerHelloThenClose,
  dheWith1024BitGroup,
  dheWith2048BitGroup,
  legacyProtocols,
  plainTcpServer,
  silentTcpServer,
  tls13Only,
  weakTls12Suites,
  wellConfigured,
} from '../../../fixtures/tls/servers.js';
import { PROTOCOL_VERSIONS } from '../../../src/probes/tls-hello.js';
import type { VersionVerdict } from '../../../src/probes/tls-scan.js';
import { SUITE_WEAKNESSES } from '../../../src/probes/tls-suites.js';
import { runCheckOn, testCheck } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';

/** A checklist that accepts finite-field DHE: every default weakness but `finite-field-dhe`. */
const DHE_ALLOWED = { forbid: SUITE_WEAKNESSES.filter((weakness) => weakness !== 'finite-field-dhe') };

testCheck(tlsProtocols, {
  valid: [
    { name: 'TLS 1.2 + 1.3 with ECDHE/AEAD suites (fixture)', target: wellConfigured },
    { name: 'TLS 1.3 only, with minimum TLSv1.3', target: tls13Only, with: { minimum: 'TLSv1.3' } },
    // Stronger than the default policy asks: the minimum is a floor, not a version that must be offered.
    { name: 'TLS 1.3 only, with the default minimum', target: tls13Only },
    { name: 'TLS 1.2 required for old clients and accepted', target: wellConfigured, with: { require: ['TLSv1.2'] } },
    {
      name: 'CBC and RSA-key-exchange suites listed in allow_suites',
      target: weakTls12Suites,
      with: {
        allow_suites: [
          'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
          'TLS_RSA_WITH_AES_128_CBC_SHA256',
          'TLS_RSA_WITH_AES_256_GCM_SHA384',
        ],
      },
    },
    { name: 'reference service', target: () => startReferenceTarget() },
    { name: 'DHE accepted by the checklist, over a 2048-bit group', target: dheWith2048BitGroup, with: DHE_ALLOWED },
  ],
  invalid: [
    { name: 'accepts TLS 1.0 and 1.1', target: legacyProtocols, expect: /TLSv1\.0 accepted.*TLSv1\.1 accepted/ },
    {
      name: 'accepts TLS 1.1 (observation names it)',
      target: acceptsTls11,
      expect: /"probe":"ClientHello TLSv1\.1 to 127\.0\.0\.1:\d+","expected":"refused","actual":"accepted \(TLS_/,
    },
    {
      name: 'accepts a CBC suite',
      target: weakTls12Suites,
      expect: /TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA accepted \(cbc\)/,
    },
    {
      name: 'accepts RSA key exchange (no forward secrecy)',
      target: weakTls12Suites,
      expect: /TLS_RSA_WITH_AES_256_GCM_SHA384 accepted \(no-forward-secrecy\)/,
    },
    {
      name: 'DHE-RSA with AES-GCM over a 1024-bit group: finite-field DHE is not the ECDHE T3 asks for, and the group is small',
      target: dheWith1024BitGroup,
      expect:
        /^TLSv1\.2 accepts 2 weak suite\(s\): TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 with a 1024-bit DH group, TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 with a 1024-bit DH group$/,
    },
    {
      name: 'DHE suites (observation names the group size read from the ServerKeyExchange)',
      target: dheWith1024BitGroup,
      expect:
        /"actual":"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 accepted with a 1024-bit DH group \(finite-field-dhe, dh-group-below-2048\)","ok":false,"note":"finite-field DHE: T3 asks for ECDHE"/,
    },
    {
      name: 'DHE over a 2048-bit group, with the default policy: still not ECDHE',
      target: dheWith2048BitGroup,
      expect:
        /^TLSv1\.2 accepts 2 weak suite\(s\): TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, TLS_DHE_RSA_WITH_AES_256_GCM_SHA384$/,
    },
    {
      name: 'DHE accepted by the checklist, over a 1024-bit group (Logjam-class): the group size fails it',
      target: dheWith1024BitGroup,
      with: DHE_ALLOWED,
      expect:
        /^TLSv1\.2 accepts 2 weak suite\(s\): TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 with a 1024-bit DH group, TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 with a 1024-bit DH group$/,
    },
    {
      name: 'DHE suites listed in allow_suites, over a 1024-bit group: allow_suites does not waive the group',
      target: dheWith1024BitGroup,
      with: { allow_suites: ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'] },
      expect:
        /"actual":"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 accepted with a 1024-bit DH group \(finite-field-dhe, dh-group-below-2048\)","ok":false,"note":"listed in allow_suites; allow_suites does not waive a DH group below 2048 bits; finite-field DHE: T3 asks for ECDHE"/,
    },
    {
      name: 'DHE accepted by the checklist, but the server closes before its ServerKeyExchange: group not observed',
      target: dheServerHelloThenClose,
      with: DHE_ALLOWED,
      status: 'error',
      expect:
        /^could not observe 127\.0\.0\.1:\d+: TLSv1\.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: DH group not observed \(connection closed without an alert before the ServerKeyExchange\)$/,
    },
    {
      name: 'DHE forbidden and the group not observed: the suite fails on DHE alone',
      target: dheServerHelloThenClose,
      expect: /^TLSv1\.2 accepts 1 weak suite\(s\): TLS_DHE_RSA_WITH_AES_128_GCM_SHA256$/,
    },
    {
      name: 'refuses TLS 1.2 that the checklist requires',
      target: tls13Only,
      with: { require: ['TLSv1.2'] },
      expect:
        /TLSv1\.2 refused \(alert protocol_version \(70\)\) but the checklist requires it \(require: \[TLSv1\.2\]\)/,
    },
    {
      name: 'minimum TLSv1.3 but TLS 1.2 accepted',
      target: wellConfigured,
      with: { minimum: 'TLSv1.3' },
      expect: /TLSv1\.2 accepted \(minimum is TLSv1\.3\)/,
    },
    {
      name: 'connection refused',
      target: closedPort,
      status: 'error',
      expect: /could not observe 127\.0\.0\.1:\d+: SSLv3: connect to 127\.0\.0\.1:\d+ failed: ECONNREFUSED/,
    },
    {
      name: 'server that never answers',
      target: silentTcpServer,
      status: 'error',
      expect: /could not observe 127\.0\.0\.1:\d+: .*TLSv1\.2: no answer within 300 ms/,
    },
    {
      name: 'not a TLS server',
      target: plainTcpServer,
      status: 'error',
      expect: /unexpected answer: not a TLS record \(first bytes 485454502f\)/,
    },
  ],
});

describe('tls.protocols details', () => {
  // How fast that makes it is measured in bench/tls-protocols.ts, against sslscan and testssl.sh.
  it('sends its hellos in parallel, not one version after another', async () => {
    const target = await legacyProtocols();
    try {
      const outcome = await runCheckOn(tlsProtocols, target);
      expect(outcome.status).toBe('fail');
      expect(target.peakConnections()).toBeGreaterThan(1);
    } finally {
      await target.close();
    }
  });

  it('lists every accepted weak suite of a legacy server, one observation each', async () => {
    const target = await legacyProtocols();
    try {
      const outcome = await runCheckOn(tlsProtocols, target);
      const weak = outcome.observations.filter((observation) => / offering TLS_/.test(observation.probe));
      expect(weak.length).toBeGreaterThan(10);
      expect(weak.every((observation) => observation.ok === false)).toBe(true);
      expect(JSON.stringify(weak)).toMatch(
        /TLS_DH_anon_WITH_AES_128_GCM_SHA256 accepted \(no-forward-secrecy, anonymous\)/,
      );
    } finally {
      await target.close();
    }
  });

  it('judges from its inputs alone: a policy that forbids only RC4 passes a CBC suite', () => {
    const verdicts: VersionVerdict[] = [
      { version: 'SSLv3', state: 'refused', answer: 'alert handshake_failure (40)', elapsedMs: 1 },
      { version: 'TLSv1.0', state: 'refused', answer: 'alert protocol_version (70)', elapsedMs: 1 },
      { version: 'TLSv1.1', state: 'refused', answer: 'alert protocol_version (70)', elapsedMs: 1 },
      {
        version: 'TLSv1.2',
        state: 'accepted',
        cipherSuite: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
        helloRetryRequest: false,
        elapsedMs: 1,
      },
      { version: 'TLSv1.3', state: 'refused', answer: 'server answered with TLSv1.2', elapsedMs: 1 },
    ];
    const suites = { version: 'TLSv1.2' as const, accepted: ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'], hellos: 2 };
    const onlyRc4 = protocolsParams.parse({ forbid: ['rc4'] });
    expect(assessProtocols('h:443', verdicts, suites, onlyRc4).status).toBe('pass');
    const outcome = assessProtocols('h:443', verdicts, suites, protocolsParams.parse({}));
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe('TLSv1.2 accepts 1 weak suite(s): TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA');
  });

  it('accepts DHE only where the checklist leaves finite-field-dhe out of forbid', () => {
    const verdicts: VersionVerdict[] = [
      { version: 'TLSv1.1', state: 'refused', answer: 'alert protocol_version (70)', elapsedMs: 1 },
      {
        version: 'TLSv1.2',
        state: 'accepted',
        cipherSuite: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
        helloRetryRequest: false,
        elapsedMs: 1,
      },
    ];
    const suites = { version: 'TLSv1.2' as const, accepted: ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'], hellos: 2 };
    expect(assessProtocols('h:443', verdicts, suites, protocolsParams.parse({}))).toMatchObject({
      status: 'fail',
      summary: 'TLSv1.2 accepts 1 weak suite(s): TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
    });
    const dheAllowed = protocolsParams.parse(DHE_ALLOWED);
    const with2048 = { ...suites, dhGroups: { TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: { bits: 2048 } } };
    expect(assessProtocols('h:443', verdicts, with2048, dheAllowed).status).toBe('pass');
    const with1024 = { ...suites, dhGroups: { TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: { bits: 1024 } } };
    expect(assessProtocols('h:443', verdicts, with1024, dheAllowed)).toMatchObject({
      status: 'fail',
      summary: 'TLSv1.2 accepts 1 weak suite(s): TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 with a 1024-bit DH group',
    });
    // An enumeration that carries no group for a DHE suite has not seen it: no pass by omission.
    expect(assessProtocols('h:443', verdicts, suites, dheAllowed)).toMatchObject({
      status: 'error',
      summary:
        'could not observe h:443: TLSv1.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: DH group not observed (no ServerKeyExchange was read)',
    });
  });

  it.each([
    // name, group, DHE forbidden, in allow_suites -> weak label, unseen, ok
    ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', { bits: 2048 }, false, false, undefined, undefined, true],
    [
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      { bits: 2047 },
      false,
      false,
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 with a 2047-bit DH group',
      undefined,
      false,
    ],
    [
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      { bits: 4096 },
      true,
      false,
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      undefined,
      false,
    ],
    ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', { bits: 2048 }, true, true, undefined, undefined, true],
    [
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      { bits: 1024 },
      true,
      true,
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 with a 1024-bit DH group',
      undefined,
      false,
    ],
    ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', { error: 'reset' }, false, false, undefined, 'reset', false],
    ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', { error: 'reset' }, true, true, undefined, 'reset', false],
    [
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      { error: 'reset' },
      true,
      false,
      'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
      undefined,
      false,
    ],
  ] as const)(
    'judgeSuite %s %j (DHE forbidden: %s, allow_suites: %s)',
    (name, group, dheForbidden, listed, weak, unseen, ok) => {
      const forbid = dheForbidden ? [...SUITE_WEAKNESSES] : DHE_ALLOWED.forbid;
      const judged = judgeSuite(name, group, new Set(forbid), listed);
      expect(judged?.weak).toBe(weak);
      expect(judged?.unseen).toBe(unseen);
      expect(judged?.observation.ok).toBe(ok);
    },
  );

  it('judgeSuite has nothing to say about an ECDHE AEAD suite, whatever it carries', () => {
    expect(judgeSuite('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', undefined, new Set(SUITE_WEAKNESSES), false)).toBe(
      undefined,
    );
  });

  it('a violation seen outranks a probe without an answer; no answer alone is an error', () => {
    const suites = { version: 'TLSv1.2' as const, accepted: [], hellos: 1, error: 'no answer within 5 ms' };
    const params = protocolsParams.parse({});
    const withViolation: VersionVerdict[] = [
      {
        version: 'TLSv1.0',
        state: 'accepted',
        cipherSuite: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
        helloRetryRequest: false,
        elapsedMs: 1,
      },
      { version: 'TLSv1.2', state: 'unknown', reason: 'no answer within 5 ms', elapsedMs: 5 },
    ];
    expect(assessProtocols('h:443', withViolation, suites, params).status).toBe('fail');
    expect(assessProtocols('h:443', withViolation.slice(1), suites, params)).toMatchObject({ status: 'error' });
  });

  it('a server that refuses every version at or above the minimum fails: no client can connect', () => {
    const refusedEverything: VersionVerdict[] = PROTOCOL_VERSIONS.map((version) => ({
      version,
      state: 'refused',
      answer: 'alert handshake_failure (40)',
      elapsedMs: 1,
    }));
    const outcome = assessProtocols(
      'h:443',
      refusedEverything,
      { version: 'TLSv1.2', accepted: [], hellos: 1 },
      protocolsParams.parse({}),
    );
    expect(outcome).toMatchObject({
      status: 'fail',
      summary: 'no TLS version at or above TLSv1.2 was accepted: no client can connect',
    });
  });

  it('rejects unknown parameters and suite names that are not IANA names', () => {
    expect(() => protocolsParams.parse({ minimum: 'TLSv1.1' })).toThrow();
    expect(() => protocolsParams.parse({ allow_suites: ['AES128-SHA'] })).toThrow();
    expect(() => protocolsParams.parse({ minimun: 'TLSv1.2' })).toThrow();
  });

  it('sends SNI for host names only', () => {
    expect(scanTargetFromUrl('https://localhost:8443', 1000)).toMatchObject({
      host: 'localhost',
      port: 8443,
      serverName: 'localhost',
    });
    expect(scanTargetFromUrl('https://127.0.0.1', 1000)).toMatchObject({
      host: '127.0.0.1',
      port: 443,
      serverName: undefined,
    });
    expect(scanTargetFromUrl('https://[::1]:9443', 1000)).toMatchObject({
      host: '::1',
      port: 9443,
      serverName: undefined,
    });
  });
});
