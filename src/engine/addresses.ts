/**
 * Source-address entries of a checklist, pure: `127.0.0.8`, `::1`, or an IPv4
 * block such as `10.20.0.0/28`, expanded to the addresses it stands for.
 */
import net from 'node:net';

/** The most addresses one entry may expand to. */
const MAX_ADDRESSES = 4096;

/** `127.0.0.8`, `10.20.0.0/28` or `::1` → the addresses, in order. Throws on anything else. */
export function expandAddresses(entry: string): string[] {
  const [base = '', prefixText] = entry.split('/');
  const family = net.isIP(base);
  if (family === 0) throw new Error(`'${entry}' is not an IP address or an address/prefix block`);
  if (prefixText === undefined) return [base];
  const bits = family === 4 ? 32 : 128;
  const prefix = Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new Error(`'${entry}' has an invalid prefix`);
  if (2 ** (bits - prefix) > MAX_ADDRESSES) {
    throw new Error(`'${entry}' holds more than ${MAX_ADDRESSES} addresses; list a smaller block`);
  }
  if (family === 6) {
    if (prefix !== 128) throw new Error(`'${entry}': IPv6 blocks are not supported; list the addresses`);
    return [base];
  }
  const value = base.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  const start = value - (value % size);
  return Array.from({ length: size }, (_, offset) => {
    const address = start + offset;
    return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
  });
}

/** Whether an entry is an address or a block of at most MAX_ADDRESSES. */
export function isAddressOrBlock(value: string): boolean {
  try {
    return expandAddresses(value).length > 0;
  } catch {
    return false;
  }
}
