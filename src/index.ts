/**
 * secgate as a library, for checks written outside its tree (plugins): the check contract and its
 * types, and zod at the exact release the engine reads `with:` schemas with (bin/secgate carries its
 * own copy, built from this one: package.json pins it; a plugin builds its schema with this one, so its
 * issues are reported at file:line:column exactly as a built-in's). The command line is bin/secgate;
 * tests of a check use `secgate/testing`.
 */
export { z } from 'zod';
// What a check may do besides HTTP and SQL (ctx.files, ctx.exec, ctx.tls, ctx.git), and the observations
// those capabilities hand back: a plugin types its probe step with the same names as a built-in check.
export type * from './engine/capabilities.js';
export type * from './engine/observations.js';
export { SEVERITIES, type Severity } from './engine/severity.js';
export {
  type CheckContext,
  type CheckDefinition,
  type CheckEffect,
  type ChecklistRequirement,
  type CheckMeta,
  type CheckOutcome,
  type CheckStatus,
  type DatabaseProbe,
  defineCheck,
  type HttpProbe,
  type HttpRequestOptions,
  type HttpResponse,
  type Json,
  type Observation,
  type ResolvedTarget,
  type SecretFingerprint,
  type SecretRedactor,
  type SourceLocation,
} from './engine/types.js';
