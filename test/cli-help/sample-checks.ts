/** A small registry for the catalogue commands: one check of each kind init treats differently. */
import { z } from 'zod';
import { type CheckDefinition, defineCheck } from '../../src/engine/types.js';

const unused = async () => ({ status: 'error' as const, summary: 'not run in these tests', observations: [] });

export const sampleChecks: CheckDefinition[] = [
  defineCheck({
    id: 'tls.protocols',
    title: 'TLS 1.2 is the minimum; SSLv3, TLS 1.0 and 1.1 are refused',
    source: 'seed 002, checklist item 3',
    docs: 'docs/controls.md#T3',
    remediation: 'Set ssl_protocols TLSv1.2 TLSv1.3 on the proxy.',
    rationale: 'SSLv3 and TLS 1.0/1.1 are cryptographically broken.',
    effects: 'none',
    params: z
      .object({ minimum: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('lowest protocol accepted') })
      .strict(),
    strength: { minimum: ['TLSv1.2', 'TLSv1.3'] },
    run: unused,
  }),
  defineCheck({
    id: 'auth.lockout',
    title: 'Repeated wrong passwords lock the account',
    source: 'seed 002, checklist item 6',
    remediation: 'Lock the account after N consecutive failures.',
    effects: 'locks-account',
    params: z.object({ attempts: z.number().int().min(1).default(5) }).strict(),
    run: unused,
  }),
  defineCheck({
    id: 'auth.required',
    title: 'Every non-health endpoint requires authentication',
    source: 'seed 002, checklist item 4',
    remediation: 'Enforce authentication in middleware at the path prefix.',
    effects: 'none',
    params: z.object({}).strict(),
    run: unused,
  }),
  defineCheck({
    id: 'command.gates',
    title: 'The lint, test, static-analysis and audit gates pass',
    source: 'seed 000, control 6',
    remediation: 'Fix what the failing gate reports.',
    effects: 'runs-commands',
    params: z.object({ commands: z.array(z.string()).min(1) }).strict(),
    run: unused,
  }),
  defineCheck({
    id: 'repo.secrets',
    title: 'No credentials are committed',
    source: 'seed 002, checklist item 9',
    remediation: 'Remove and rotate the secret.',
    effects: 'none',
    params: z.object({ history: z.boolean().default(true) }).strict(),
    run: unused,
  }),
];
