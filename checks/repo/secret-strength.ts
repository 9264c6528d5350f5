import { z } from 'zod';
import { fingerprintSecret } from '../../src/engine/secrets.js';
import { type CheckOutcome, defineCheck, type Observation } from '../../src/engine/types.js';
import { describeProblem, judgeSecret, type StrengthPolicy } from '../../src/secrets/strength.js';

export const secretStrengthParams = z
  .object({
    names: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
      .min(1)
      .describe(
        'environment variables holding the secrets to judge (from the environment the checklist lets checks see)',
      ),
    min_length: z.number().int().min(8).max(1024).default(32).describe('the fewest characters a secret may have'),
    min_entropy: z
      .number()
      .min(0)
      .max(8)
      .default(3)
      .describe('the least Shannon entropy a secret may have, in bits per character'),
    min_distinct: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(10)
      .describe('the fewest distinct characters a secret may have'),
  })
  .strict();
export type SecretStrengthParams = z.output<typeof secretStrengthParams>;

/** What the check reads: each named variable's value, unset ones included. */
export interface SecretsSeen {
  secrets: { name: string; value: string | undefined }[];
}

/**
 * Seed 000 item 1: the secrets the service runs with are set, long and
 * random — never the template's `default_secret` or `admin123`. The values
 * come from the environment the checklist passes to the gate; only their
 * length and fingerprint are recorded.
 */
export default defineCheck({
  id: 'repo.secret-strength',
  title: 'Named secrets are set, at least min_length characters, not a known default and not low-entropy',
  source: 'control K1 (docs/controls.md#K1): Secrets are set, long and random',
  docs: 'docs/controls.md#K1',
  remediation:
    'Generate each secret from a CSPRNG (e.g. `openssl rand -base64 48`), store it in the secret manager and ' +
    'inject it into the deployment environment; never reuse a template or documentation value.',
  rationale:
    'A default or guessable signing secret lets anyone who has read the code mint valid tokens for production.',
  effects: 'none',
  severity: 'critical',
  params: secretStrengthParams,
  // The named secrets are all this check sees of the environment; one that is unset is a finding, not exit 2.
  requires: (params) => params.names.map((name) => `env?:${name}` as const),
  strength: { names: 'verified', min_length: 'higher', min_entropy: 'higher', min_distinct: 'higher' },
  async run(ctx, params) {
    const secrets = params.names.map((name) => ({ name, value: ctx.env[name] }));
    // Known to the redactor before anything is judged or written.
    for (const { value } of secrets) if (value) ctx.secrets.register(value);
    return judgeSecretStrength({ secrets }, params);
  },
});

/**
 * The verdict on the named secrets. Pure: the values are its inputs, and only
 * their length and fingerprint reach the observations. An unset secret is a
 * finding (fail), never a skip.
 */
export function judgeSecretStrength(seen: SecretsSeen, params: SecretStrengthParams): CheckOutcome {
  const policy: StrengthPolicy = {
    minLength: params.min_length,
    minEntropy: params.min_entropy,
    minDistinct: params.min_distinct,
  };
  const observations: Observation[] = [];
  const weak: string[] = [];
  for (const { name, value } of seen.secrets) {
    const verdict = judgeSecret(value, policy);
    const reasons = verdict.problems.map((problem) => describeProblem(problem, policy, verdict.encoded));
    if (verdict.problems.length > 0) weak.push(`${name} ${reasons.join(', ')}`);
    observations.push({
      probe: `environment variable ${name}`,
      expected: {
        set: true,
        min_length: policy.minLength,
        min_entropy_bits_per_char: policy.minEntropy,
        min_distinct_characters: policy.minDistinct,
        known_default: false,
      },
      actual: value
        ? {
            set: true,
            ...fingerprintSecret(value),
            entropy_bits_per_char: Math.round(verdict.entropy * 100) / 100,
            distinct_characters: verdict.distinct,
            problems: verdict.problems,
            // What the value encodes is described by its form, length and problems, never its text.
            ...(verdict.encoded
              ? {
                  encodes: {
                    form: verdict.encoded.form,
                    text_length: verdict.encoded.length,
                    problems: verdict.encoded.problems,
                  },
                }
              : {}),
          }
        : { set: false },
      ok: verdict.problems.length === 0,
      note: verdict.problems.length === 0 ? `${name} is set and strong` : `${name} ${reasons.join('; ')}`,
    });
  }
  if (weak.length > 0) {
    return {
      status: 'fail',
      summary: `${weak.length} of ${seen.secrets.length} secrets are weak: ${weak.join('; ')}`,
      observations,
    };
  }
  // Nothing named, nothing judged: an empty list is not evidence of strength.
  if (seen.secrets.length === 0) return { status: 'error', summary: 'no secret was named to judge', observations };
  const count = seen.secrets.length;
  const named = count === 1 ? 'the 1 secret is' : `${count} secrets are`;
  return { status: 'pass', summary: `${named} set, long and random`, observations };
}
