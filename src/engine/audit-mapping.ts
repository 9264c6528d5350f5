/**
 * The audit-table mapping, checked against the database's catalogue before any
 * probe runs: a column the checklist maps but the table does not have is an
 * invalid checklist (exit 2, naming the key and the column), not a query error
 * that every auth check would meet mid-run as `error`.
 */
import { type MissingAuditColumn, missingAuditColumns, readAuditCatalogue } from '../probes/auth-audit.js';
import type { AuthConfig } from './checklist/schema.js';
import type { DatabaseProbe } from './types.js';

/** One line per missing column or table, for the usage error. */
export function describeMissingAuditColumns(missing: readonly MissingAuditColumn[]): string {
  const lines: string[] = [];
  const missingTables = new Set<string>();
  for (const entry of missing) {
    if (entry.tableMissing) {
      if (!missingTables.has(entry.table)) lines.push(`the database has no table "${entry.table}" (auth.tables)`);
      missingTables.add(entry.table);
      continue;
    }
    lines.push(`${entry.key}: table "${entry.table}" has no column "${entry.column}"`);
  }
  return lines.join('; ');
}

/**
 * The problems of the mapping, or undefined when every mapped table and column
 * exists. A catalogue that cannot be read is not a verdict on the mapping: the
 * checks that need the database then answer `error` themselves.
 */
export async function auditMappingProblems(db: DatabaseProbe, auth: AuthConfig): Promise<string | undefined> {
  let missing: MissingAuditColumn[];
  try {
    missing = missingAuditColumns(auth, await readAuditCatalogue(db, auth));
  } catch {
    return undefined;
  }
  return missing.length === 0 ? undefined : describeMissingAuditColumns(missing);
}
