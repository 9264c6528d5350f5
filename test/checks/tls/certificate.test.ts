import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import tlsCertificate, { assessCertificate, certificateParams } from '../../../checks/tls/certificate.js';
import { createCertificateAuthority, issueIntermediate, issueLeaf } from '../../../fixtures/tls/pki.js';
import {
  closedPort,
  expiredLeaf,
  expiringIntermediate,
  expiringLeaf,
  longLivedIntermediate,
  plainTcpServer,
  selfSignedLeaf,
  sha1SignedLeaf,
  silentTcpServer,
  weakKeyLeaf,
  wellConfigured,
  wrongHostLeaf,
} from '../../../fixtures/tls/servers.js';
import { publicKeyFacts, signatureAlgorithmOf, trustPathOf } from '../../../src/probes/certificate.js';
import type { TargetHandle } from '../../harness/check-tester.js';
import { testCheck } from '../../harness/check-tester.js';
import { startReferenceTarget } from '../../support/reference-service.js';

/** The well-configured server reached as `localhost`, so SNI and a DNS SAN are exercised too. */
async function wellConfiguredByName(): Promise<TargetHandle> {
  const fixture = await wellConfigured();
  return { ...fixture, context: { target: { ...fixture.context.target, url: `https://localhost:${fixture.port}` } } };
}

/** The well-configured server with no ca_file: the default store does not know the fixture CA. */
async function wellConfiguredWithoutCa(): Promise<TargetHandle> {
  const fixture = await wellConfigured();
  return {
    ...fixture,
    context: { target: { url: fixture.context.target.url, timeout_ms: fixture.context.target.timeout_ms } },
  };
}

testCheck(tlsCertificate, {
  valid: [
    { name: 'CA-issued 2048-bit RSA leaf for 127.0.0.1 (fixture)', target: wellConfigured },
    { name: 'same server reached by DNS name', target: wellConfiguredByName },
    {
      name: 'three days left, fail threshold lowered to 2',
      target: expiringLeaf,
      with: { warn_days: 30, fail_days: 2 },
    },
    { name: 'leaf from an intermediate CA with years left', target: longLivedIntermediate },
    { name: 'reference service', target: () => startReferenceTarget() },
  ],
  invalid: [
    { name: 'self-signed leaf', target: selfSignedLeaf, expect: /"actual":"self-signed \(issuer equals subject/ },
    {
      name: 'self-signed leaf is not trusted',
      target: selfSignedLeaf,
      expect: /chain not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/,
    },
    { name: 'expired leaf', target: expiredLeaf, expect: /certificate expired on \d{4}-\d\d-\d\dT/ },
    {
      name: 'expires inside fail_days',
      target: expiringLeaf,
      expect: /certificate expires in [23] days \(fail below 7\)/,
    },
    {
      // The leaf has a year left, but clients stop verifying the chain when its intermediate expires.
      name: 'intermediate CA expires inside fail_days',
      target: expiringIntermediate,
      expect:
        /CN=secgate fixture intermediate CA, O=secgate fixtures in the chain expires in [23] days \(fail below 7\)/,
    },
    {
      name: 'wrong host name',
      target: wrongHostLeaf,
      expect: /host name 127\.0\.0\.1 does not match the certificate \(DNS:wrong\.example\)/,
    },
    {
      name: 'RSA 1024-bit leaf key',
      target: weakKeyLeaf,
      expect: /"probe":"public key of CN=localhost, O=secgate fixtures".*"actual":"RSA 1024 bits"/,
    },
    { name: 'SHA-1 signature', target: sha1SignedLeaf, expect: /weak signature sha1WithRSAEncryption on CN=localhost/ },
    {
      name: 'private CA not configured (the server sends its CA, which nothing trusts)',
      target: wellConfiguredWithoutCa,
      expect:
        /"probe":"chain verification against Node's default CA store".*"actual":"not verified: SELF_SIGNED_CERT_IN_CHAIN"/,
    },
    {
      name: 'connection refused',
      target: closedPort,
      status: 'error',
      expect: /could not read the certificate of 127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    },
    {
      name: 'server that never answers',
      target: silentTcpServer,
      status: 'error',
      expect: /TLS handshake with 127\.0\.0\.1:\d+ timed out after 300 ms/,
    },
    {
      name: 'not a TLS server',
      target: plainTcpServer,
      status: 'error',
      expect: /could not read the certificate of 127\.0\.0\.1:\d+/,
    },
  ],
  // The reference service starts PostgreSQL and the whole app: give it room on two loaded cores.
});

describe('tls.certificate details', () => {
  const ca = createCertificateAuthority();

  it('reads signature algorithms and key sizes from the DER, including EC keys forge cannot parse', async () => {
    const leaf = new X509Certificate(issueLeaf(ca, { digest: 'sha1', keyBits: 1024 }).certPem);
    expect(signatureAlgorithmOf(leaf.raw)).toEqual({
      oid: '1.2.840.113549.1.1.5',
      name: 'sha1WithRSAEncryption',
      digest: 'sha1',
    });
    expect(publicKeyFacts(leaf)).toMatchObject({ type: 'rsa', bits: 1024 });
    const { execFileSync } = await import('node:child_process');
    // An ECDSA P-256 self-signed certificate from the openssl CLI: an independent encoder.
    const ecPem = execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        '/dev/null',
        '-subj',
        '/CN=ec.test',
        '-days',
        '1',
        '-sha384',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const ec = new X509Certificate(ecPem);
    expect(signatureAlgorithmOf(ec.raw)).toMatchObject({ name: 'ecdsa-with-SHA384', digest: 'sha384' });
    expect(publicKeyFacts(ec)).toMatchObject({ type: 'ec', bits: 256, curve: 'prime256v1' });
  });

  it('warns, without failing, between fail_days and warn_days', () => {
    const now = new Date();
    const pem = issueLeaf(ca, { validFromDays: -80, validForDays: 90 }, now).certPem;
    const chain = [new X509Certificate(pem), new X509Certificate(ca.certPem)];
    const presented = {
      chain,
      trustPath: chain,
      verified: true,
      verificationError: undefined,
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
    };
    const outcome = assessCertificate(
      { endpoint: 'h:443', hostname: '127.0.0.1', trustAnchor: 'the configured CA', presented, now },
      certificateParams.parse({}),
    );
    expect(outcome.status).toBe('pass');
    const validity = outcome.observations.find(
      (observation) => observation.probe === 'validity of the leaf certificate',
    );
    expect(validity).toMatchObject({ ok: true, note: 'warning: fewer than 30 days left' });
    // The same chain judged a year later (the clock is an input) has expired.
    const later = new Date(now.getTime() + 365 * 86_400_000);
    expect(
      assessCertificate(
        { endpoint: 'h:443', hostname: '127.0.0.1', trustAnchor: 'x', presented, now: later },
        certificateParams.parse({}),
      ).summary,
    ).toMatch(/certificate expired/);
  });

  it('records subject, issuer, SANs, fingerprint, not-after and the chain', () => {
    const now = new Date();
    const leaf = new X509Certificate(issueLeaf(ca, {}, now).certPem);
    const presented = {
      chain: [leaf, new X509Certificate(ca.certPem)],
      trustPath: [leaf, new X509Certificate(ca.certPem)],
      verified: true,
      verificationError: undefined,
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
    };
    const outcome = assessCertificate(
      { endpoint: 'h:443', hostname: 'localhost', trustAnchor: 'x', presented, now },
      certificateParams.parse({}),
    );
    const leafObservation = outcome.observations.find((observation) =>
      observation.probe.startsWith('leaf certificate presented'),
    );
    expect(leafObservation?.actual).toMatchObject({
      subject: 'CN=localhost, O=secgate fixtures',
      issuer: 'CN=secgate fixture CA, O=secgate fixtures',
      subject_alt_names: 'DNS:localhost, IP Address:127.0.0.1',
      sha256_fingerprint: leaf.fingerprint256,
      not_after: new Date(leaf.validTo).toISOString(),
    });
    const chain = outcome.observations.find((observation) => observation.probe.startsWith('certificate chain'));
    expect(Array.isArray(chain?.actual) && chain.actual.length).toBe(2);
  });

  it('judges the dates of the path a client verifies, not of certificates presented past it', () => {
    const now = new Date();
    const intermediate = issueIntermediate(ca, { validFromDays: -1, validForDays: 1825 }, now);
    const leaf = new X509Certificate(issueLeaf(intermediate, {}, now).certPem);
    // A server still sending an old cross-signature past the intermediate: expired, and unused.
    const stale = new X509Certificate(issueIntermediate(ca, { validFromDays: -400, validForDays: 30 }, now).certPem);
    const anchor = new X509Certificate(ca.certPem);
    const chain = [leaf, new X509Certificate(intermediate.certPem), stale];
    const trustPath = trustPathOf(chain, [anchor]);
    expect(trustPath.map((certificate) => certificate.fingerprint256)).toEqual([
      leaf.fingerprint256,
      chain[1]?.fingerprint256,
      anchor.fingerprint256,
    ]);
    const presented = {
      chain,
      trustPath,
      verified: true,
      verificationError: undefined,
      protocol: 'TLSv1.3',
      cipher: 'x',
    };
    const facts = { endpoint: 'h:443', hostname: 'localhost', trustAnchor: 'x', presented, now };
    expect(assessCertificate(facts, certificateParams.parse({})).status).toBe('pass');
    // The intermediate's own dates count: judged four years and eleven months on, it has days left no more.
    const later = new Date(now.getTime() + 1820 * 86_400_000);
    expect(assessCertificate({ ...facts, now: later }, certificateParams.parse({})).summary).toMatch(
      /CN=secgate fixture intermediate CA, O=secgate fixtures in the chain expires in [34] days/,
    );
  });

  it('rejects fail_days above warn_days and unknown keys', () => {
    expect(() => certificateParams.parse({ warn_days: 5, fail_days: 10 })).toThrow(/fail_days/);
    expect(() => certificateParams.parse({ warn: 5 })).toThrow();
  });
});
