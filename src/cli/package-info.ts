/** Where secgate is installed and which version it is (works from src/ under vitest and from dist/). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (true) {
    const candidate = path.join(directory, 'package.json');
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (manifest.name === 'secgate') return directory;
    }
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('cannot find the secgate package.json above this module');
    directory = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();
export const VERSION: string = (
  JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
