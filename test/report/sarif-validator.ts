/**
 * The official OASIS SARIF 2.1.0 JSON schema (sarif-schema-2.1.0.json, errata01,
 * from github.com/oasis-tcs/sarif-spec Schemata/, reformatted only by biome)
 * compiled with ajv. The schema is draft-04; ajv 8 speaks draft-07, which
 * differs for this schema only in the name of the id keyword, so that one key
 * is renamed in memory. The formats it uses are checked for real, not ignored.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';

const SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sarif-schema-2.1.0.json');

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function isUri(value: string): boolean {
  try {
    new URL(value);
    return /^[a-z][a-z0-9+.-]*:/i.test(value) && !/\s/.test(value);
  } catch {
    return false;
  }
}

function isUriReference(value: string): boolean {
  // Relative references are resolved against a dummy base; anything with spaces or raw control characters is not a URI.
  if (/[\s"<>\\^`{|}]/.test(value) || [...value].some((character) => character.charCodeAt(0) < 0x20)) return false;
  try {
    new URL(value, 'https://base.invalid/');
    return true;
  } catch {
    return false;
  }
}

function isDateTime(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

export function loadSarifValidator(): (log: unknown) => ErrorObject[] {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  const { id, $schema: _draft04, ...rest } = schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('uri', { type: 'string', validate: isUri });
  ajv.addFormat('uri-reference', { type: 'string', validate: isUriReference });
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  const validate = ajv.compile({ ...rest, $id: typeof id === 'string' ? id : undefined });
  return (log) => (validate(log) ? [] : [...(validate.errors ?? [])]);
}
