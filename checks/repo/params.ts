/** Parameters the repository checks share: which part of the repository they read. */
import { z } from 'zod';
import { DEFAULT_SECRET_NAMES } from '../../src/secrets/named-secrets.js';
import { scopePathSchema } from '../../src/secrets/paths.js';

export const scopePathsParam = z
  .array(scopePathSchema)
  .min(1)
  .optional()
  .describe(
    "only these paths, relative to the repository's top level (a service in a monorepo: `[services/auth]`); unset: the whole repository",
  );

/**
 * The secret variable names whose values the repository checks judge (the
 * named-secret rule, src/secrets/named-secrets.ts); both checks share the
 * default so that a name the work tree is held to, history is held to too.
 */
export function secretNamesParam(description: string) {
  return (
    z
      // At most 255 characters: the keyword prefilter's limit (the names are its keywords in the history scan).
      .array(
        z
          .string()
          .max(255)
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
      )
      .default([...DEFAULT_SECRET_NAMES])
      .describe(description)
  );
}
