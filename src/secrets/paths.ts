/** Path patterns for `ignore_paths`: kept tiny and explicit rather than a full glob library. */

function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index] ?? '';
    if (pattern.startsWith('**/', index)) {
      source += '(?:.*/)?'; // zero or more directories
      index += 2;
    } else if (pattern.startsWith('**', index)) {
      source += '.*';
      index += 1;
    } else if (character === '*') source += '[^/]*';
    else source += character.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** `test/`, `fixtures/**`, `**\/*.test.ts`: a directory prefix, or a glob with `*` (one segment) and `**` (any depth). */
export function pathMatches(pattern: string, filePath: string): boolean {
  if (!pattern.includes('*')) {
    return filePath === pattern || filePath.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`);
  }
  return globToRegex(pattern).test(filePath);
}
