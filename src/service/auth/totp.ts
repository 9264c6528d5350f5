/** TOTP (RFC 6238: SHA-1, 6 digits, 30 s) through otpauth. */
import { Secret, TOTP } from 'otpauth';

export const TOTP_ISSUER = 'secgate';

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpFor(secret: string, label: string): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(secret),
  });
}

export function provisioningUri(secret: string, username: string): string {
  return totpFor(secret, username).toString();
}

/**
 * The time step the code belongs to (±1 step of clock drift), or undefined
 * when it does not match. Callers use the step to refuse replays if they wish.
 */
export function matchingStep(secret: string, code: string, now = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totpFor(secret, 'check').validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return undefined;
  return Math.floor(now / 1000 / 30) + delta;
}

export function currentCode(secret: string, now = Date.now()): string {
  return totpFor(secret, 'code').generate({ timestamp: now });
}
