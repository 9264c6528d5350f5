/** Parameters the repository checks share: which part of the repository they read. */
import { z } from 'zod';
import { scopePathSchema } from '../../src/secrets/paths.js';

export const scopePathsParam = z
  .array(scopePathSchema)
  .min(1)
  .optional()
  .describe(
    "only these paths, relative to the repository's top level (a service in a monorepo: `[services/auth]`); unset: the whole repository",
  );
