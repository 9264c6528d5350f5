import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LFS_POINTER_MAX_BYTES, parseLfsPointer } from '../../src/secrets/lfs.js';

const oid = createHash('sha256').update('lfs content').digest('hex');
const version = 'version https://git-lfs.github.com/spec/v1';
const pointer = `${version}\noid sha256:${oid}\nsize 1234\n`;
const parse = (text: string) => parseLfsPointer(Buffer.from(text));

describe('parseLfsPointer', () => {
  it.each([
    ['the spec pointer', pointer],
    ['without the final line break', pointer.trimEnd()],
    [
      'with CRLF line breaks and a blank line around it (git-lfs reads them too)',
      `\r\n${pointer.replaceAll('\n', '\r\n')}\n`,
    ],
    [
      'with the pre-release version URL git-lfs still smudges',
      pointer.replace('git-lfs.github.com', 'hawser.github.com'),
    ],
  ])('recognises %s', (_name, text) => {
    expect(parse(text)).toEqual({ oid, size: 1234, extensions: [] });
  });

  it('names the LFS extensions a content passes through', () => {
    const text = pointer.replace('\noid', `\next-0-crypt sha256:${oid}\noid`);
    expect(parse(text)).toEqual({ oid, size: 1234, extensions: ['ext-0-crypt'] });
  });

  it.each([
    ['prose that quotes a pointer', `# LFS\n\nA pointer looks like this:\n\n    ${pointer.replaceAll('\n', '\n    ')}`],
    ['the version line followed by prose', `${version}\nis the spec URL every pointer names.\n`],
    ['another version', pointer.replace('/v1', '/v2')],
    ['a version URL that differs in case', pointer.replace('git-lfs', 'Git-LFS')],
    ['an oid that is not SHA-256 hex', pointer.replace(`sha256:${oid}`, `sha256:${oid.toUpperCase()}`)],
    ['a short oid', pointer.replace(oid, oid.slice(1))],
    ['a size that is not a number', pointer.replace('size 1234', 'size -1')],
    ['no size', `${version}\noid sha256:${oid}\n`],
    ['keys out of order', `${version}\nsize 1234\noid sha256:${oid}\n`],
    ['an extra line', `${pointer}note hello\n`],
    ['more than 1 KiB', `${pointer}${' '.repeat(LFS_POINTER_MAX_BYTES)}`],
    ['nothing', ''],
  ])('does not take %s for a pointer', (_name, text) => {
    expect(parse(text)).toBeUndefined();
  });
});
