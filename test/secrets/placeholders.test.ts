import { describe, expect, it } from 'vitest';
import { isPlaceholder } from '../../src/secrets/placeholders.js';

describe('isPlaceholder', () => {
  it.each([
    'postgres://secgate:$DB_PASSWORD@127.0.0.1:5432/secgate',
    'postgres://…',
    'POSTGRES_PASSWORD',
    '.secgate/pki/server.key',
    '<your-token>',
  ])('treats %s as a placeholder, a reference or a path', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it.each(['Zr8vQ2xL0pW4nT7yB1cK9mH3sD6fJ5gA', 'postgres://app:Sup3rS3cret@db/app', 'ab/cd+ef/gh1234==', 'a$bcdefgh'])(
    'does not excuse the real-looking secret %s',
    (value) => {
      expect(isPlaceholder(value)).toBe(false);
    },
  );
});
