/**
 * auth.token-validation's judge, on sample observations: no service, no database. Each row is what a
 * probe could have seen; the verdict and the phrase that names the break come from the judge alone.
 */
import { describe, expect, it } from 'vitest';
import {
  type JwtForgeries,
  judgeTokenValidation,
  type PresentedForgery,
  type SessionForgeries,
  type TokenValidationSeen,
} from '../../../checks/auth/token-validation.js';
import { judgeTable } from '../../harness/judge-table.js';

/** What the sample's checklist asked: no well-known secrets, one required claim (the refusedTokens below). */
const params = {
  refused_statuses: [401, 403],
  prove_expiry: true,
  weak_secrets: [] as string[],
  required_claims: ['exp'],
};

function answered(name: string, kind: string, status: number): PresentedForgery {
  return { name, kind, answer: { status, shown: { status, body: status === 200 ? '{"sub":"probe"}' : '' } } };
}

/** The forgeries that need no key of the service's (the public key aside). */
const keylessTokens: PresentedForgery[] = [
  answered('alg: none with the real claims', 'alg none', 401),
  answered('alg: None with the real claims', 'alg None or NONE', 401),
  answered('alg: NONE with the real claims', 'alg None or NONE', 401),
  answered('payload tampered (privilege raised), original signature', 'tampered payload', 401),
  answered('RS256 signed with a key the service never issued', 'foreign key', 401),
  answered('RS256 signed with a foreign key carried in its own jwk header', 'key in its jwk header', 401),
  answered(
    'RS256 signed with a foreign key whose self-signed certificate is in its own x5c header',
    'key in its x5c header',
    401,
  ),
  answered('HS256 signed with the service public key', 'HMAC with the public key', 403),
  answered('HS256 with kid "../dev/null" (a path to an empty file), signed with an empty key', 'kid injection', 401),
  answered(
    "HS256 with kid \"x' UNION SELECT '' -- \" (a SQL injection selecting an empty key), signed with an empty key",
    'kid injection',
    401,
  ),
];

const refusedTokens: PresentedForgery[] = [
  ...keylessTokens,
  answered('expired an hour ago, signed with the service key', 'expired (signed with the service key)', 401),
  answered('missing claim "exp", signed with the service key', 'missing claim', 401),
  answered('aud set to another audience, signed with the service key', 'wrong aud or iss', 401),
  answered('exp as a string, an hour past, signed with the service key', 'exp as a string', 401),
  answered('an unknown critical header parameter, signed with the service key', 'unknown crit header', 401),
];

const jwt: JwtForgeries = {
  credential: 'jwt',
  alg: 'RS256',
  foreignKeyUntried: false,
  publicKey: true,
  signingKey: true,
  variedClaims: ['aud'],
  presented: refusedTokens,
  expiredReplay: undefined,
};

const baseline = {
  credential: { length: 412, sha256: '0123456789ab' },
  answer: { status: 200, shown: { status: 200 } },
};

const seen: TokenValidationSeen = {
  mePath: '/me',
  baseline,
  forged: jwt,
  unobserved: undefined,
};

/** The refused forgeries, but those of one kind answered `status`. */
function answering(refused: readonly PresentedForgery[], kind: string, status: number): PresentedForgery[] {
  return refused.map((forgery) => (forgery.kind === kind ? answered(forgery.name, forgery.kind, status) : forgery));
}

/** The JWT sample with one forgery answered `status` instead of refused. */
function accepting(kind: string, status = 200): TokenValidationSeen {
  return { ...seen, forged: { ...jwt, presented: answering(refusedTokens, kind, status) } };
}

/** No signing key: the forgeries that need none, and the real token presented again once it expired. */
function withoutKey(expiredReplay: JwtForgeries['expiredReplay']): TokenValidationSeen {
  return {
    ...seen,
    forged: { ...jwt, signingKey: false, variedClaims: [], presented: keylessTokens, expiredReplay },
  };
}

const refusedSessions: PresentedForgery[] = [
  answered('a random session id', 'random id', 401),
  answered('the real session id with one character changed', 'tampered id', 401),
  answered('the pre-auth cookie mfa_challenge presented as the session', 'pre-auth cookie', 401),
  answered('a session replayed after logout', 'logged-out session', 401),
  answered('a session aged past its lifetime with auth.sessions.expire_sql', 'expired session', 401),
];
const sessions: SessionForgeries = { credential: 'session', logout: true, presented: refusedSessions };

/** The session sample with one kind of forged or ended session accepted. */
function acceptingSession(kind: string): TokenValidationSeen {
  return { ...seen, forged: { ...sessions, presented: answering(refusedSessions, kind, 200) } };
}

judgeTable<TokenValidationSeen, typeof params>(
  'judgeTokenValidation',
  (sample, given) => judgeTokenValidation(sample, given ?? params),
  [
    {
      name: 'every forged token refused',
      seen,
      status: 'pass',
      expect:
        /^all 15 tokens were refused: alg none, 2 × alg None or NONE, tampered payload, foreign key, key in its jwk header, key in its x5c header, HMAC with the public key, 2 × kid injection, expired \(signed with the service key\), missing claim, wrong aud or iss, exp as a string, unknown crit header; not tried: a wrong iss \(the real token has no iss\)$/,
    },
    {
      name: 'forged alg: none accepted',
      seen: accepting('alg none'),
      status: 'fail',
      expect: /^forged token accepted: alg: none with the real claims got 200$/,
    },
    {
      name: 'tampered signature accepted',
      seen: accepting('tampered payload'),
      status: 'fail',
      expect: /forged token accepted: payload tampered \(privilege raised\), original signature got 200/,
    },
    {
      name: 'foreign key accepted',
      seen: accepting('foreign key', 204),
      status: 'fail',
      expect: /forged token accepted: RS256 signed with a key the service never issued got 204/,
    },
    {
      name: "the key in the token's own jwk header trusted (CVE-2018-0114)",
      seen: accepting('key in its jwk header'),
      status: 'fail',
      expect: /^forged token accepted: RS256 signed with a foreign key carried in its own jwk header got 200$/,
    },
    {
      name: "the certificate in the token's own x5c header trusted",
      seen: accepting('key in its x5c header'),
      status: 'fail',
      expect:
        /^forged token accepted: RS256 signed with a foreign key whose self-signed certificate is in its own x5c header got 200$/,
    },
    {
      name: 'alg none in another case accepted',
      seen: accepting('alg None or NONE'),
      status: 'fail',
      expect:
        /^forged token accepted: alg: None with the real claims got 200; forged token accepted: alg: NONE with the real claims got 200$/,
    },
    {
      name: 'a kid naming an empty file or injecting SQL accepted',
      seen: accepting('kid injection'),
      status: 'fail',
      expect:
        /forged token accepted: HS256 with kid "\.\.\/dev\/null" \(a path to an empty file\), signed with an empty key got 200/,
    },
    {
      name: 'another audience accepted',
      seen: accepting('wrong aud or iss'),
      status: 'fail',
      expect: /^forged token accepted: aud set to another audience, signed with the service key got 200$/,
    },
    {
      name: 'a string exp skipped',
      seen: accepting('exp as a string'),
      status: 'fail',
      expect: /^forged token accepted: exp as a string, an hour past, signed with the service key got 200$/,
    },
    {
      // Many JWT libraries ignore crit, and the token needs the service's key: said, not the verdict.
      name: 'an unknown critical header ignored',
      seen: accepting('unknown crit header'),
      status: 'pass',
      expect: /^14 of 15 tokens were refused: .*; an unknown crit header was ignored \(noted, not failed\)/,
    },
    {
      name: 'HMAC key confusion accepted',
      seen: accepting('HMAC with the public key'),
      status: 'fail',
      expect: /forged token accepted: HS256 signed with the service public key got 200/,
    },
    {
      name: 'expired token signed with the service key accepted',
      seen: accepting('expired (signed with the service key)'),
      status: 'fail',
      expect: /forged token accepted: expired an hour ago, signed with the service key got 200/,
    },
    {
      name: 'token without exp accepted',
      seen: accepting('missing claim'),
      status: 'fail',
      expect: /forged token accepted: missing claim "exp", signed with the service key got 200/,
    },
    {
      name: 'a 404 is not a refusal',
      seen: accepting('alg none', 404),
      status: 'fail',
      expect: /alg: none with the real claims got 404/,
    },
    {
      name: 'no key: the real token replayed after it expired is refused',
      seen: withoutKey({ answer: { status: 401, shown: { status: 401 } }, secondsPastExp: 3 }),
      status: 'pass',
      expect:
        /expired \(the real token, replayed\); not tried: missing-claim, wrong aud\/iss, string-exp and unknown-crit tokens \(no signing_key_env\)$/,
    },
    {
      name: 'no key: the real token still works after it expired',
      seen: withoutKey({ answer: { status: 200, shown: { status: 200 } }, secondsPastExp: 4 }),
      status: 'fail',
      expect: /^expired token accepted: the real token, replayed 4 s after it expired, got 200$/,
    },
    {
      name: 'no key: the real token has no exp, so it never expires',
      seen: withoutKey({ exp: null }),
      status: 'fail',
      expect: /no numeric exp claim: it never expires/,
    },
    {
      name: 'expiry left out visibly',
      seen: {
        ...seen,
        forged: {
          ...jwt,
          signingKey: false,
          variedClaims: [],
          publicKey: false,
          presented: keylessTokens.filter((token) => token.kind !== 'HMAC with the public key'),
        },
      },
      with: { ...params, prove_expiry: false },
      status: 'pass',
      expect:
        /; not tried: HMAC with the public key .*; missing-claim, wrong aud\/iss, string-exp and unknown-crit tokens .*; expired tokens \(prove_expiry: false\)$/,
    },
    {
      name: 'expiry promised but neither signed nor replayed: not proven',
      seen: { ...seen, forged: { ...jwt, signingKey: false, variedClaims: [], presented: keylessTokens } },
      status: 'error',
      expect: /^could not observe expired tokens: none was presented$/,
    },
    {
      name: 'every forged or ended session refused',
      seen: { ...seen, forged: sessions },
      status: 'pass',
      expect:
        /^all 5 forged or ended sessions were refused: random id, tampered id, pre-auth cookie, logged-out session, expired session$/,
    },
    {
      name: 'cookie session id guessed',
      seen: acceptingSession('random id'),
      status: 'fail',
      expect: /^forged session accepted: a random session id got 200$/,
    },
    {
      name: 'pre-auth cookie promoted to a session',
      seen: acceptingSession('pre-auth cookie'),
      status: 'fail',
      expect: /forged session accepted: the pre-auth cookie mfa_challenge presented as the session got 200/,
    },
    {
      name: 'session still works after logout',
      seen: acceptingSession('logged-out session'),
      status: 'fail',
      expect: /forged session accepted: a session replayed after logout got 200/,
    },
    {
      name: 'the baseline does not work: nothing is proven',
      seen: { ...seen, baseline: { ...baseline, answer: { status: 401, shown: { status: 401 } } }, forged: undefined },
      status: 'error',
      expect: /^could not observe a working baseline: the real token got 401 on \/me$/,
    },
    {
      name: 'the probe stopped (the flow broke): error, with what was seen',
      seen: { ...seen, forged: { ...jwt, presented: [] }, unobserved: 'token validation: login answered 500' },
      status: 'error',
      expect: /^could not observe token validation: login answered 500$/,
    },
    {
      name: 'a well-known secret the checklist names was never presented (the probe was cut short)',
      seen,
      with: { ...params, weak_secrets: ['changethis'] },
      status: 'error',
      expect: /^could not observe every forged token: not presented: 1 well-known secret$/,
    },
    {
      name: 'fewer missing-claim tokens than required claims',
      seen,
      with: { ...params, required_claims: ['exp', 'sub', 'aud'] },
      status: 'error',
      expect: /^could not observe every forged token: not presented: 2 missing claim$/,
    },
    {
      name: 'no token signed with a foreign key, though one could be made',
      seen: { ...seen, forged: { ...jwt, presented: refusedTokens.filter((token) => token.kind !== 'foreign key') } },
      status: 'error',
      expect: /not presented: 1 foreign key$/,
    },
    {
      name: 'a foreign key was made, yet no token carried it in its jwk header',
      seen: {
        ...seen,
        forged: { ...jwt, presented: refusedTokens.filter((token) => token.kind !== 'key in its jwk header') },
      },
      status: 'error',
      expect: /^could not observe every forged token: not presented: 1 key in its jwk header$/,
    },
    {
      name: 'an HMAC service owes no jwk or x5c forgery (a symmetric jwk is another forgery)',
      seen: {
        ...seen,
        forged: {
          ...jwt,
          alg: 'HS256',
          publicKey: false,
          presented: refusedTokens.filter((token) => !/^key in its|^HMAC with/.test(token.kind)),
        },
      },
      status: 'pass',
      expect: /^all 12 tokens were refused: /,
    },
    {
      name: 'no kid injection presented',
      seen: { ...seen, forged: { ...jwt, presented: refusedTokens.filter((token) => token.kind !== 'kid injection') } },
      status: 'error',
      expect: /not presented: 2 kid injection$/,
    },
    {
      name: "the real token's iss was not varied, though the record says it has one",
      seen: { ...seen, forged: { ...jwt, variedClaims: ['aud', 'iss'] } },
      status: 'error',
      expect: /not presented: 1 wrong aud or iss$/,
    },
    {
      name: 'one forgery accepted, another never presented: the acceptance is the verdict',
      seen: { ...accepting('alg none'), forged: { ...jwt, presented: answering(refusedTokens, 'alg none', 200) } },
      with: { ...params, weak_secrets: ['changethis'] },
      status: 'fail',
      expect: /^forged token accepted: alg: none with the real claims got 200$/,
    },
    {
      name: 'a forgery accepted, then the probe stopped: the acceptance is the verdict',
      seen: { ...accepting('alg none'), unobserved: 'token validation: the expired-token replay timed out' },
      status: 'fail',
      expect: /^forged token accepted: alg: none with the real claims got 200$/,
    },
    {
      name: 'no baseline recorded: fail closed',
      seen: { ...seen, baseline: undefined },
      status: 'error',
      expect: /^could not observe a working baseline/,
    },
  ],
);

describe('judgeTokenValidation details', () => {
  it('keeps the fingerprint, never a token, in the baseline evidence', () => {
    const outcome = judgeTokenValidation(seen, params);
    expect(outcome.observations[0]?.probe).toBe(
      'GET /me with the probe\'s real token {"length":412,"sha256":"0123456789ab"}',
    );
  });

  it('says which foreign key could not be generated, without failing', () => {
    const outcome = judgeTokenValidation({ ...seen, forged: { ...jwt, alg: 'XS1', foreignKeyUntried: true } }, params);
    expect(outcome.status).toBe('pass');
    expect(outcome.observations).toContainEqual({
      probe: 'XS1 signed with a foreign key',
      note: 'not tried: no XS1 key can be generated',
    });
  });
});
