/**
 * tls.certificate — seed 002, checklist item 2: the certificate is valid and
 * trusted by internal clients (`openssl s_client -CAfile … ` → Verify return
 * code 0), and "a self-signed cert without trust is not acceptable".
 */
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { errorMessage } from '../../src/engine/errors.js';
import { type CheckOutcome, defineCheck, type Json, type Observation } from '../../src/engine/types.js';
import { type PresentedChain, publicKeyFacts, signatureAlgorithmOf } from '../../src/probes/certificate.js';

export const certificateParams = z
  .object({
    warn_days: z
      .number()
      .int()
      .min(0)
      .default(30)
      .describe('fewer days left than this passes with a warning in the observations'),
    fail_days: z
      .number()
      .int()
      .min(0)
      .default(7)
      .describe('fewer days left than this, on the leaf or on an issuing certificate clients rely on, fails'),
  })
  .strict()
  .refine((params) => params.fail_days <= params.warn_days, {
    message: 'fail_days must not exceed warn_days',
    path: ['fail_days'],
  });
export type CertificateParams = z.output<typeof certificateParams>;

const DAY_MS = 86_400_000;
const STRONG_DIGESTS = new Set(['sha256', 'sha384', 'sha512', 'intrinsic']);

/** `CN=localhost, O=secgate fixtures` instead of Node's one-field-per-line form. */
function distinguishedName(text: string): string {
  return text.split('\n').filter(Boolean).join(', ');
}

function isSelfSigned(certificate: X509Certificate): boolean {
  return certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey);
}

function describeCertificate(certificate: X509Certificate): { [key: string]: Json } {
  return {
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    sha256_fingerprint: certificate.fingerprint256,
    not_before: new Date(certificate.validFrom).toISOString(),
    not_after: new Date(certificate.validTo).toISOString(),
  };
}

/** RSA ≥ 2048 bits, EC ≥ 256 bits, or EdDSA. */
function keyVerdict(certificate: X509Certificate): { actual: string; ok: boolean } {
  const key = publicKeyFacts(certificate);
  if (key.type === 'rsa' || key.type === 'rsa-pss') {
    return { actual: `${key.type.toUpperCase()} ${key.bits ?? '?'} bits`, ok: (key.bits ?? 0) >= 2048 };
  }
  if (key.type === 'ec')
    return { actual: `EC ${key.curve ?? '?'} (${key.bits ?? '?'} bits)`, ok: (key.bits ?? 0) >= 256 };
  if (key.type === 'ed25519' || key.type === 'ed448') return { actual: key.type, ok: true };
  return { actual: `${key.type} ${key.bits ?? '?'} bits`, ok: false };
}

/** One issuing certificate's dates against the thresholds: what they say, and the problem when too few days are left. */
function issuerValidityOf(
  certificate: X509Certificate,
  now: Date,
  params: CertificateParams,
): { subject: string; actual: string; problem: string | undefined } {
  const subject = distinguishedName(certificate.subject);
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (now > notAfter) {
    return {
      subject,
      actual: `expired on ${notAfter.toISOString()} (${-daysLeft} days ago)`,
      problem: `${subject} in the chain expired on ${notAfter.toISOString()}`,
    };
  }
  if (now < notBefore) {
    return {
      subject,
      actual: `not valid before ${notBefore.toISOString()}`,
      problem: `${subject} in the chain is not valid before ${notBefore.toISOString()}`,
    };
  }
  const actual = `valid until ${notAfter.toISOString()} (${daysLeft} days left)`;
  if (daysLeft >= params.fail_days) return { subject, actual, problem: undefined };
  return {
    subject,
    actual,
    problem: `${subject} in the chain expires in ${daysLeft} days (fail below ${params.fail_days})`,
  };
}

export interface CertificateFacts {
  endpoint: string;
  /** The host the client connects to: a DNS name or an IP literal. */
  hostname: string;
  /** `the configured CA (ca_file)` or `Node's default CA store`. */
  trustAnchor: string;
  presented: PresentedChain;
  now: Date;
}

/** The verdict on a presented chain. Pure: the chain, the name and the time are inputs. */
export function assessCertificate(facts: CertificateFacts, params: CertificateParams): CheckOutcome {
  const { presented, endpoint, hostname, now } = facts;
  const leaf = presented.chain[0];
  if (!leaf) {
    return {
      status: 'error',
      summary: `${endpoint} presented no certificate`,
      observations: [{ probe: `TLS handshake with ${endpoint}`, expected: 'a certificate', actual: 'none', ok: false }],
    };
  }
  const problems: string[] = [];
  const observations: Observation[] = [
    {
      probe: `TLS handshake with ${endpoint}`,
      actual: { protocol: presented.protocol, cipher: presented.cipher },
    },
    {
      probe: `leaf certificate presented by ${endpoint}`,
      actual: { ...describeCertificate(leaf), subject_alt_names: leaf.subjectAltName ?? null },
    },
    {
      probe: `certificate chain presented by ${endpoint}`,
      actual: presented.chain.map(describeCertificate),
    },
  ];

  observations.push({
    probe: `chain verification against ${facts.trustAnchor}`,
    expected: 'verified (OpenSSL verify return code 0)',
    actual: presented.verified ? 'verified' : `not verified: ${presented.verificationError ?? 'unknown reason'}`,
    ok: presented.verified,
  });
  if (!presented.verified) problems.push(`chain not trusted: ${presented.verificationError ?? 'unknown reason'}`);

  const matchedName = isIP(hostname) ? leaf.checkIP(hostname) : leaf.checkHost(hostname, { subject: 'never' });
  observations.push({
    probe: `host name ${hostname} against the leaf certificate`,
    expected: `a subjectAltName matching ${hostname}`,
    actual: matchedName
      ? `matches ${matchedName}`
      : `no match in ${leaf.subjectAltName ?? 'a certificate without subjectAltName'}`,
    ok: matchedName !== undefined,
  });
  if (!matchedName)
    problems.push(`host name ${hostname} does not match the certificate (${leaf.subjectAltName ?? 'no SANs'})`);

  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  const notYetValid = now < notBefore;
  const expired = now > notAfter;
  const validityOk = !notYetValid && !expired && daysLeft >= params.fail_days;
  const validityActual = expired
    ? `expired on ${notAfter.toISOString()} (${-daysLeft} days ago)`
    : notYetValid
      ? `not valid before ${notBefore.toISOString()}`
      : `valid until ${notAfter.toISOString()} (${daysLeft} days left)`;
  observations.push({
    probe: 'validity of the leaf certificate',
    expected: `valid now with at least ${params.fail_days} days left (warn below ${params.warn_days})`,
    actual: validityActual,
    ok: validityOk,
    ...(validityOk && daysLeft < params.warn_days ? { note: `warning: fewer than ${params.warn_days} days left` } : {}),
  });
  if (expired) problems.push(`certificate expired on ${notAfter.toISOString()}`);
  else if (notYetValid) problems.push(`certificate not valid before ${notBefore.toISOString()}`);
  else if (!validityOk) problems.push(`certificate expires in ${daysLeft} days (fail below ${params.fail_days})`);

  // The leaf's dates are not the chain's: clients stop verifying it when any certificate they rely on expires.
  const issuers = presented.trustPath.slice(1);
  if (issuers.length > 0) {
    const issuerValidity = issuers.map((certificate) => issuerValidityOf(certificate, now, params));
    observations.push({
      probe: `validity of the issuing certificates on the trust path of ${endpoint}`,
      expected: `each valid now with at least ${params.fail_days} days left`,
      actual: issuerValidity.map(({ subject, actual }) => ({ subject, validity: actual })),
      ok: issuerValidity.every((validity) => validity.problem === undefined),
    });
    for (const { problem } of issuerValidity) if (problem !== undefined) problems.push(problem);
  }

  const selfSigned = isSelfSigned(leaf);
  observations.push({
    probe: 'leaf certificate issuer',
    expected: 'issued by a CA, not self-signed',
    actual: selfSigned
      ? 'self-signed (issuer equals subject and its own key verifies it)'
      : distinguishedName(leaf.issuer),
    ok: !selfSigned,
  });
  if (selfSigned) problems.push('leaf certificate is self-signed');

  presented.chain.forEach((certificate, index) => {
    const subject = distinguishedName(certificate.subject);
    const key = keyVerdict(certificate);
    observations.push({
      probe: `public key of ${subject}`,
      expected: 'RSA ≥ 2048 bits, EC ≥ P-256 or EdDSA',
      actual: key.actual,
      ok: key.ok,
    });
    if (!key.ok) problems.push(`weak key ${key.actual} in ${subject}`);
    // A trust anchor's self-signature protects nothing; every other signature in the path must be strong.
    const isTrustAnchor = index > 0 && isSelfSigned(certificate);
    if (isTrustAnchor) return;
    const signature = signatureAlgorithmOf(certificate.raw);
    const signatureOk = STRONG_DIGESTS.has(signature.digest);
    observations.push({
      probe: `signature algorithm of ${subject}`,
      expected: 'SHA-256 or stronger',
      actual: `${signature.name} (${signature.digest})`,
      ok: signatureOk,
    });
    if (!signatureOk) problems.push(`weak signature ${signature.name} on ${subject}`);
  });

  if (problems.length > 0) return { status: 'fail', summary: problems.join('; '), observations };
  return {
    status: 'pass',
    summary: `${distinguishedName(leaf.subject)} verified against ${facts.trustAnchor}, matches ${hostname}, ${daysLeft} days left`,
    observations,
  };
}

export default defineCheck({
  id: 'tls.certificate',
  title: 'The certificate chains to the trusted CA, matches the host, is valid for long enough and uses strong keys',
  source: 'control T2 (docs/controls.md#T2): The certificate is valid and trusted by the clients',
  docs: 'docs/controls.md#T2',
  remediation:
    'Serve a certificate issued by the CA your clients trust (public or the private CA in ca_file), with the service host name in subjectAltName, RSA ≥ 2048 or ECDSA P-256 keys and SHA-256 signatures; renew it before fail_days.',
  rationale:
    'A certificate clients cannot verify, or that they are trained to click through, gives no protection against an attacker on the network path.',
  effects: 'none',
  severity: 'high',
  params: certificateParams,
  strength: { fail_days: 'higher', warn_days: 'higher' },
  async run(ctx, params) {
    const url = new URL(ctx.target.url);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : 443;
    const endpoint = `${hostname}:${port}`;
    let presented: PresentedChain;
    try {
      presented = await ctx.tls.fetchPresentedChain({
        host: hostname,
        port,
        servername: isIP(hostname) ? undefined : hostname,
        caPem: ctx.target.caPem,
        timeoutMs: ctx.target.timeout_ms,
        signal: ctx.signal,
      });
    } catch (error) {
      const reason = errorMessage(error);
      return {
        status: 'error',
        summary: `could not read the certificate of ${endpoint}: ${reason}`,
        observations: [
          { probe: `TLS handshake with ${endpoint}`, expected: 'a completed handshake', actual: reason, ok: false },
        ],
      };
    }
    const trustAnchor = ctx.target.caPem
      ? `the configured CA${ctx.target.ca_file ? ` (${ctx.target.ca_file})` : ''}`
      : "Node's default CA store";
    try {
      return assessCertificate({ endpoint, hostname, trustAnchor, presented, now: ctx.clock.now() }, params);
    } catch (error) {
      // A certificate secgate cannot read (unknown encoding) is not a pass.
      const reason = errorMessage(error);
      return {
        status: 'error',
        summary: `could not judge the certificate of ${endpoint}: ${reason}`,
        observations: [
          {
            probe: `certificate presented by ${endpoint}`,
            expected: 'a readable X.509 chain',
            actual: reason,
            ok: false,
          },
        ],
      };
    }
  },
});
