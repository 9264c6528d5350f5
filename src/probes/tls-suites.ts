/**
 * The cipher suites secgate offers in its own ClientHellos, by IANA code point
 * and IANA name. The weaknesses of a suite are derived from its name (the IANA
 * names spell out key exchange, cipher and mode), so the table stays data and
 * cannot disagree with itself.
 */

export interface CipherSuite {
  /** IANA code point, e.g. 0xc02f. */
  code: number;
  /** IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256. */
  name: string;
}

/** A property of a suite that a policy may forbid. */
export const SUITE_WEAKNESSES = [
  'no-forward-secrecy',
  // Forward-secret, but over a finite-field group; control T3 asks for ECDHE. A checklist that accepts DHE
  // leaves it out of `forbid`, and the group's size is still checked (DH_GROUP_WEAKNESS).
  'finite-field-dhe',
  'cbc',
  'rc4',
  '3des',
  'des',
  'null',
  'export',
  'anonymous',
] as const;
export type SuiteWeakness = (typeof SUITE_WEAKNESSES)[number];

/**
 * Smallest acceptable DH prime. 1024-bit groups are Logjam-class (precomputation
 * within a nation state's reach); 2048 bits is the floor of NIST SP 800-57 and RFC 7919.
 */
export const MIN_DH_GROUP_BITS = 2048;

/**
 * A DHE suite served over a group below MIN_DH_GROUP_BITS. Not one of the
 * SUITE_WEAKNESSES a policy chooses to forbid: it is forbidden always, also
 * where the checklist accepts finite-field DHE.
 */
export const DH_GROUP_WEAKNESS = 'dh-group-below-2048';

/** Whether the group of a DHE suite whose prime has `bits` bits is too small. Pure. */
export function dhGroupTooSmall(bits: number): boolean {
  return bits < MIN_DH_GROUP_BITS;
}

/** TLS 1.3 suites (RFC 8446): all AEAD, all with ephemeral key exchange. */
export const TLS13_SUITES: readonly CipherSuite[] = [
  { code: 0x1301, name: 'TLS_AES_128_GCM_SHA256' },
  { code: 0x1302, name: 'TLS_AES_256_GCM_SHA384' },
  { code: 0x1303, name: 'TLS_CHACHA20_POLY1305_SHA256' },
  { code: 0x1304, name: 'TLS_AES_128_CCM_SHA256' },
  { code: 0x1305, name: 'TLS_AES_128_CCM_8_SHA256' },
];

/**
 * Suites for SSLv3 … TLS 1.2. Broad on purpose: a server that accepts an old
 * protocol version must find something it likes, or we would call the version
 * refused when it is merely short of a common suite.
 */
export const LEGACY_SUITES: readonly CipherSuite[] = [
  // ECDHE, AEAD
  { code: 0xc02b, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256' },
  { code: 0xc02c, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' },
  { code: 0xcca9, name: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256' },
  { code: 0xc02f, name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
  { code: 0xc030, name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' },
  { code: 0xcca8, name: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256' },
  { code: 0xc0ac, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM' },
  { code: 0xc0ad, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM' },
  { code: 0xc0ae, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8' },
  { code: 0xc0af, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8' },
  { code: 0xc05c, name: 'TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256' },
  { code: 0xc05d, name: 'TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384' },
  { code: 0xc060, name: 'TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256' },
  { code: 0xc061, name: 'TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384' },
  // ECDHE, CBC and older
  { code: 0xc023, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256' },
  { code: 0xc024, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384' },
  { code: 0xc009, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA' },
  { code: 0xc00a, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA' },
  { code: 0xc072, name: 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256' },
  { code: 0xc073, name: 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384' },
  { code: 0xc008, name: 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA' },
  { code: 0xc007, name: 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA' },
  { code: 0xc006, name: 'TLS_ECDHE_ECDSA_WITH_NULL_SHA' },
  { code: 0xc027, name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256' },
  { code: 0xc028, name: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384' },
  { code: 0xc013, name: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' },
  { code: 0xc014, name: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA' },
  { code: 0xc076, name: 'TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256' },
  { code: 0xc077, name: 'TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384' },
  { code: 0xc012, name: 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA' },
  { code: 0xc011, name: 'TLS_ECDHE_RSA_WITH_RC4_128_SHA' },
  { code: 0xc010, name: 'TLS_ECDHE_RSA_WITH_NULL_SHA' },
  // DHE
  { code: 0x009e, name: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256' },
  { code: 0x009f, name: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384' },
  { code: 0xccaa, name: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256' },
  { code: 0xc09e, name: 'TLS_DHE_RSA_WITH_AES_128_CCM' },
  { code: 0xc09f, name: 'TLS_DHE_RSA_WITH_AES_256_CCM' },
  { code: 0xc052, name: 'TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256' },
  { code: 0xc053, name: 'TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384' },
  { code: 0x00a2, name: 'TLS_DHE_DSS_WITH_AES_128_GCM_SHA256' },
  { code: 0x00a3, name: 'TLS_DHE_DSS_WITH_AES_256_GCM_SHA384' },
  { code: 0x0067, name: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256' },
  { code: 0x006b, name: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256' },
  { code: 0x0033, name: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA' },
  { code: 0x0039, name: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA' },
  { code: 0x0045, name: 'TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA' },
  { code: 0x0088, name: 'TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA' },
  { code: 0x00be, name: 'TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256' },
  { code: 0x00c4, name: 'TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256' },
  { code: 0x009a, name: 'TLS_DHE_RSA_WITH_SEED_CBC_SHA' },
  { code: 0x0016, name: 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA' },
  { code: 0x0015, name: 'TLS_DHE_RSA_WITH_DES_CBC_SHA' },
  { code: 0x0040, name: 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA256' },
  { code: 0x006a, name: 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA256' },
  { code: 0x0032, name: 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA' },
  { code: 0x0038, name: 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA' },
  { code: 0x0013, name: 'TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA' },
  // Static ECDH (no forward secrecy)
  { code: 0xc02d, name: 'TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256' },
  { code: 0xc02e, name: 'TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384' },
  { code: 0xc031, name: 'TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256' },
  { code: 0xc032, name: 'TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384' },
  { code: 0xc004, name: 'TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA' },
  { code: 0xc005, name: 'TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA' },
  { code: 0xc00e, name: 'TLS_ECDH_RSA_WITH_AES_128_CBC_SHA' },
  { code: 0xc00f, name: 'TLS_ECDH_RSA_WITH_AES_256_CBC_SHA' },
  // RSA key exchange (no forward secrecy)
  { code: 0x009c, name: 'TLS_RSA_WITH_AES_128_GCM_SHA256' },
  { code: 0x009d, name: 'TLS_RSA_WITH_AES_256_GCM_SHA384' },
  { code: 0xc09c, name: 'TLS_RSA_WITH_AES_128_CCM' },
  { code: 0xc09d, name: 'TLS_RSA_WITH_AES_256_CCM' },
  { code: 0xc050, name: 'TLS_RSA_WITH_ARIA_128_GCM_SHA256' },
  { code: 0xc051, name: 'TLS_RSA_WITH_ARIA_256_GCM_SHA384' },
  { code: 0x003c, name: 'TLS_RSA_WITH_AES_128_CBC_SHA256' },
  { code: 0x003d, name: 'TLS_RSA_WITH_AES_256_CBC_SHA256' },
  { code: 0x002f, name: 'TLS_RSA_WITH_AES_128_CBC_SHA' },
  { code: 0x0035, name: 'TLS_RSA_WITH_AES_256_CBC_SHA' },
  { code: 0x0041, name: 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA' },
  { code: 0x0084, name: 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA' },
  { code: 0x00ba, name: 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256' },
  { code: 0x00c0, name: 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256' },
  { code: 0x0096, name: 'TLS_RSA_WITH_SEED_CBC_SHA' },
  { code: 0x0007, name: 'TLS_RSA_WITH_IDEA_CBC_SHA' },
  { code: 0x000a, name: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA' },
  { code: 0x0009, name: 'TLS_RSA_WITH_DES_CBC_SHA' },
  { code: 0x0005, name: 'TLS_RSA_WITH_RC4_128_SHA' },
  { code: 0x0004, name: 'TLS_RSA_WITH_RC4_128_MD5' },
  { code: 0x003b, name: 'TLS_RSA_WITH_NULL_SHA256' },
  { code: 0x0002, name: 'TLS_RSA_WITH_NULL_SHA' },
  { code: 0x0001, name: 'TLS_RSA_WITH_NULL_MD5' },
  // Export grade
  { code: 0x0064, name: 'TLS_RSA_EXPORT1024_WITH_RC4_56_SHA' },
  { code: 0x0062, name: 'TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA' },
  { code: 0x0014, name: 'TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA' },
  { code: 0x0011, name: 'TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA' },
  { code: 0x0008, name: 'TLS_RSA_EXPORT_WITH_DES40_CBC_SHA' },
  { code: 0x0006, name: 'TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5' },
  { code: 0x0003, name: 'TLS_RSA_EXPORT_WITH_RC4_40_MD5' },
  // Anonymous (no authentication at all)
  { code: 0x00a6, name: 'TLS_DH_anon_WITH_AES_128_GCM_SHA256' },
  { code: 0x00a7, name: 'TLS_DH_anon_WITH_AES_256_GCM_SHA384' },
  { code: 0x0034, name: 'TLS_DH_anon_WITH_AES_128_CBC_SHA' },
  { code: 0x003a, name: 'TLS_DH_anon_WITH_AES_256_CBC_SHA' },
  { code: 0x001b, name: 'TLS_DH_anon_WITH_3DES_EDE_CBC_SHA' },
  { code: 0x0018, name: 'TLS_DH_anon_WITH_RC4_128_MD5' },
  { code: 0xc018, name: 'TLS_ECDH_anon_WITH_AES_128_CBC_SHA' },
  { code: 0xc019, name: 'TLS_ECDH_anon_WITH_AES_256_CBC_SHA' },
  { code: 0xc017, name: 'TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA' },
  { code: 0xc016, name: 'TLS_ECDH_anon_WITH_RC4_128_SHA' },
  { code: 0xc015, name: 'TLS_ECDH_anon_WITH_NULL_SHA' },
];

/** Signalling value (RFC 5746) sent instead of the renegotiation_info extension in SSLv3 hellos. */
export const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

const suitesByCode = new Map<number, CipherSuite>(
  [...TLS13_SUITES, ...LEGACY_SUITES].map((suite) => [suite.code, suite]),
);

/** The IANA name of a code point, or its hex form when the server picked something we never offered. */
export function cipherSuiteName(code: number): string {
  return suitesByCode.get(code)?.name ?? `0x${code.toString(16).padStart(4, '0')}`;
}

/** DHE key exchange (export grade too): the suites whose ServerKeyExchange carries a finite-field group. */
export function isFiniteFieldDhe(name: string): boolean {
  return /^TLS_DHE_/.test(name);
}

/** Weaknesses of a suite, read from its IANA name. TLS 1.3 suites have none of these. */
export function suiteWeaknesses(name: string): SuiteWeakness[] {
  const match = /^TLS_(.+)_WITH_(.+)$/.exec(name);
  if (!match) return [];
  const keyExchange = match[1] ?? '';
  const cipher = match[2] ?? '';
  const weaknesses: SuiteWeakness[] = [];
  if (!/^(ECDHE|DHE)_/.test(keyExchange) || keyExchange.includes('EXPORT')) weaknesses.push('no-forward-secrecy');
  if (isFiniteFieldDhe(name)) weaknesses.push('finite-field-dhe');
  if (/_CBC_/.test(`_${cipher}_`)) weaknesses.push('cbc');
  if (cipher.includes('RC4')) weaknesses.push('rc4');
  if (cipher.startsWith('3DES')) weaknesses.push('3des');
  if (/^DES(40)?_/.test(cipher)) weaknesses.push('des');
  if (cipher.startsWith('NULL')) weaknesses.push('null');
  if (keyExchange.includes('EXPORT')) weaknesses.push('export');
  if (keyExchange.includes('anon')) weaknesses.push('anonymous');
  return weaknesses;
}
