/**
 * Raw TLS ClientHello probe. secgate writes its own hellos byte by byte (as
 * testssl.sh and sslyze do) so that whether a server accepts SSLv3, TLS 1.0 or
 * an RC4 suite never depends on what the local OpenSSL is willing to offer.
 *
 * The core is pure: `buildClientHello` returns the record bytes,
 * `parseServerResponse` reads the first answer (ServerHello, HelloRetryRequest
 * or alert) and `parseDhGroup` the DH prime's size from the ServerKeyExchange
 * that follows a DHE suite's ServerHello. `sendClientHello` is the thin I/O
 * edge: one TCP connection, one hello, the first answer (read on to the
 * ServerKeyExchange when asked to), close.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { DhGroupObservation, HelloTarget, ProtocolVersion } from '../engine/observations.js';

// The contract owns these types (src/engine/observations.ts); re-exported for this module's importers.
export type { HelloTarget, ProtocolVersion } from '../engine/observations.js';

export const PROTOCOL_VERSIONS: readonly ProtocolVersion[] = ['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

const VERSION_CODES: Record<ProtocolVersion, number> = {
  SSLv3: 0x0300,
  'TLSv1.0': 0x0301,
  'TLSv1.1': 0x0302,
  'TLSv1.2': 0x0303,
  'TLSv1.3': 0x0304,
};

export function versionCode(version: ProtocolVersion): number {
  return VERSION_CODES[version];
}

/** `TLSv1.2` for 0x0303; the hex form for anything unknown. */
export function versionName(code: number): string {
  const entry = Object.entries(VERSION_CODES).find(([, value]) => value === code);
  return entry ? entry[0] : `0x${code.toString(16).padStart(4, '0')}`;
}

const RECORD_HANDSHAKE = 22;
const RECORD_ALERT = 21;
const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_SERVER_HELLO = 2;
const HANDSHAKE_SERVER_KEY_EXCHANGE = 12;
const HANDSHAKE_SERVER_HELLO_DONE = 14;

const EXTENSION_SERVER_NAME = 0x0000;
const EXTENSION_SUPPORTED_GROUPS = 0x000a;
const EXTENSION_EC_POINT_FORMATS = 0x000b;
const EXTENSION_SIGNATURE_ALGORITHMS = 0x000d;
const EXTENSION_EXTENDED_MASTER_SECRET = 0x0017;
const EXTENSION_SESSION_TICKET = 0x0023;
const EXTENSION_SUPPORTED_VERSIONS = 0x002b;
const EXTENSION_PSK_KEY_EXCHANGE_MODES = 0x002d;
const EXTENSION_KEY_SHARE = 0x0033;
const EXTENSION_RENEGOTIATION_INFO = 0xff01;

const GROUP_X25519 = 0x001d;
/** x25519, secp256r1, secp384r1, secp521r1, ffdhe2048, ffdhe3072. */
const SUPPORTED_GROUPS = [GROUP_X25519, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101];
/** ECDSA, RSA-PSS, RSA PKCS#1 and EdDSA with SHA-2, then the SHA-1 forms old servers need. */
const SIGNATURE_ALGORITHMS = [
  0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0807, 0x0808, 0x0401, 0x0501, 0x0601,
  0x0203, 0x0201, 0x0202,
];

/** SHA-256("HelloRetryRequest"): the ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3). */
const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

/** Alert descriptions (RFC 8446 §6 and older), for observations a person can read. */
const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  120: 'no_application_protocol',
};

export function alertName(description: number): string {
  return ALERT_NAMES[description] ?? `alert_${description}`;
}

export interface ClientHelloOptions {
  version: ProtocolVersion;
  /** Code points to offer, in preference order. */
  cipherSuites: readonly number[];
  /** SNI host name; omit for IP literals (SNI must not carry an address). */
  serverName?: string | undefined;
  /** 32 bytes; random when omitted. Fixed in tests to compare exact bytes. */
  random?: Uint8Array;
  /** 32 bytes for TLS 1.3's legacy_session_id; random when omitted. */
  sessionId?: Uint8Array;
  /** 32-byte x25519 public key for TLS 1.3's key_share; random when omitted (any 32 bytes are a valid point). */
  x25519PublicKey?: Uint8Array;
}

function uint16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function uint24(value: number): Buffer {
  return Buffer.from([(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff]);
}

/** A vector with a 1- or 2-byte length prefix, as TLS's `opaque x<0..2^n-1>`. */
function vector(lengthBytes: 1 | 2, body: Buffer): Buffer {
  return Buffer.concat([lengthBytes === 1 ? Buffer.from([body.length]) : uint16(body.length), body]);
}

function uint16List(values: readonly number[]): Buffer {
  return Buffer.concat(values.map(uint16));
}

function extension(type: number, body: Buffer): Buffer {
  return Buffer.concat([uint16(type), vector(2, body)]);
}

function serverNameExtension(host: string): Buffer {
  const name = Buffer.from(host, 'ascii');
  // server_name_list { NameType host_name(0), opaque HostName<1..2^16-1> }
  return extension(EXTENSION_SERVER_NAME, vector(2, Buffer.concat([Buffer.from([0]), vector(2, name)])));
}

function helloExtensions(options: ClientHelloOptions): Buffer[] {
  const extensions: Buffer[] = [];
  if (options.serverName) extensions.push(serverNameExtension(options.serverName));
  extensions.push(
    extension(EXTENSION_SUPPORTED_GROUPS, vector(2, uint16List(SUPPORTED_GROUPS))),
    extension(EXTENSION_EC_POINT_FORMATS, vector(1, Buffer.from([0]))),
    extension(EXTENSION_RENEGOTIATION_INFO, vector(1, Buffer.alloc(0))),
    extension(EXTENSION_EXTENDED_MASTER_SECRET, Buffer.alloc(0)),
    extension(EXTENSION_SESSION_TICKET, Buffer.alloc(0)),
  );
  // signature_algorithms exists from TLS 1.2 on; strict TLS 1.0/1.1 servers may reject a hello that carries it.
  if (options.version === 'TLSv1.2' || options.version === 'TLSv1.3') {
    extensions.push(extension(EXTENSION_SIGNATURE_ALGORITHMS, vector(2, uint16List(SIGNATURE_ALGORITHMS))));
  }
  if (options.version === 'TLSv1.3') {
    const publicKey = Buffer.from(options.x25519PublicKey ?? randomBytes(32));
    extensions.push(
      // Only TLS 1.3 is offered, so a ServerHello can only mean the server speaks it.
      extension(EXTENSION_SUPPORTED_VERSIONS, vector(1, uint16(VERSION_CODES['TLSv1.3']))),
      extension(EXTENSION_PSK_KEY_EXCHANGE_MODES, vector(1, Buffer.from([1]))),
      extension(EXTENSION_KEY_SHARE, vector(2, Buffer.concat([uint16(GROUP_X25519), vector(2, publicKey)]))),
    );
  }
  return extensions;
}

/**
 * One complete TLS record holding a ClientHello for `version`. SSLv3 hellos
 * carry no extensions (SSLv3 servers may reject them) and signal secure
 * renegotiation with the SCSV instead. TLS 1.3 hellos use legacy_version
 * TLS 1.2 and name TLS 1.3 in supported_versions, as RFC 8446 requires.
 */
export function buildClientHello(options: ClientHelloOptions): Buffer {
  const isTls13 = options.version === 'TLSv1.3';
  const legacyVersion = isTls13 ? VERSION_CODES['TLSv1.2'] : VERSION_CODES[options.version];
  const random = Buffer.from(options.random ?? randomBytes(32));
  const sessionId = isTls13 ? Buffer.from(options.sessionId ?? randomBytes(32)) : Buffer.alloc(0);
  const suites = options.version === 'SSLv3' ? [...options.cipherSuites, 0x00ff] : [...options.cipherSuites];
  const parts = [
    uint16(legacyVersion),
    random,
    vector(1, sessionId),
    vector(2, uint16List(suites)),
    vector(1, Buffer.from([0])), // compression: null only
  ];
  if (options.version !== 'SSLv3') parts.push(vector(2, Buffer.concat(helloExtensions(options))));
  const body = Buffer.concat(parts);
  const handshake = Buffer.concat([Buffer.from([HANDSHAKE_CLIENT_HELLO]), uint24(body.length), body]);
  // Record-layer version: TLS 1.0 for TLS 1.0+ (what real clients send, RFC 8446 §5.1), SSLv3 for SSLv3.
  const recordVersion = options.version === 'SSLv3' ? VERSION_CODES.SSLv3 : VERSION_CODES['TLSv1.0'];
  return Buffer.concat([Buffer.from([RECORD_HANDSHAKE]), uint16(recordVersion), vector(2, handshake)]);
}

export type ServerResponse =
  | {
      kind: 'server-hello';
      /** The version the server chose: supported_versions when present, else server_version. */
      version: number;
      cipherSuite: number;
      /** A TLS 1.3 HelloRetryRequest: the server chose TLS 1.3 but wants another key share. */
      helloRetryRequest: boolean;
    }
  | { kind: 'alert'; level: number; description: number }
  /** Not enough bytes yet to decide. */
  | { kind: 'incomplete' }
  /** Bytes that are not a TLS answer to a ClientHello. */
  | { kind: 'malformed'; reason: string };

interface TlsRecord {
  type: number;
  fragment: Buffer;
}

/** Splits complete records off the front of `bytes`; the rest waits for more data. */
function readRecords(bytes: Buffer): { records: TlsRecord[]; malformed?: string } {
  const records: TlsRecord[] = [];
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    const type = bytes.readUInt8(offset);
    const major = bytes.readUInt8(offset + 1);
    const length = bytes.readUInt16BE(offset + 3);
    if (![20, 21, 22, 23].includes(type) || major !== 3) {
      return {
        records,
        malformed: `not a TLS record (first bytes ${bytes.subarray(offset, offset + 5).toString('hex')})`,
      };
    }
    if (offset + 5 + length > bytes.length) break;
    records.push({ type, fragment: bytes.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return { records };
}

function parseServerHello(body: Buffer): ServerResponse {
  // server_version(2) random(32) session_id<0..32> cipher_suite(2) compression(1) [extensions<0..2^16-1>]
  if (body.length < 38) return { kind: 'malformed', reason: 'ServerHello too short' };
  const serverVersion = body.readUInt16BE(0);
  const random = body.subarray(2, 34);
  const sessionIdLength = body.readUInt8(34);
  let offset = 35 + sessionIdLength;
  if (offset + 3 > body.length) return { kind: 'malformed', reason: 'ServerHello truncated before cipher suite' };
  const cipherSuite = body.readUInt16BE(offset);
  offset += 3;
  let version = serverVersion;
  if (offset + 2 <= body.length) {
    const extensionsEnd = Math.min(body.length, offset + 2 + body.readUInt16BE(offset));
    offset += 2;
    while (offset + 4 <= extensionsEnd) {
      const type = body.readUInt16BE(offset);
      const length = body.readUInt16BE(offset + 2);
      if (type === EXTENSION_SUPPORTED_VERSIONS && length === 2) version = body.readUInt16BE(offset + 4);
      offset += 4 + length;
    }
  }
  return {
    kind: 'server-hello',
    version,
    cipherSuite,
    helloRetryRequest: random.equals(HELLO_RETRY_REQUEST_RANDOM),
  };
}

interface HandshakeRun {
  /** The fragments of the leading run of handshake records, joined: messages may span records. */
  handshake: Buffer;
  /** The server's answer when a record before any handshake record already decides it (an alert, garbage). */
  answer?: Extract<ServerResponse, { kind: 'alert' | 'malformed' }>;
  /** The first record of another type after the handshake run began. */
  next?: TlsRecord;
}

function joinHandshake(records: readonly TlsRecord[]): HandshakeRun {
  const fragments: Buffer[] = [];
  for (const record of records) {
    // After the ServerHello, TLS 1.3 servers send ChangeCipherSpec and encrypted records: stop reading there.
    if (record.type !== RECORD_HANDSHAKE && fragments.length > 0) {
      return { handshake: Buffer.concat(fragments), next: record };
    }
    if (record.type === RECORD_ALERT) {
      if (record.fragment.length < 2) {
        return {
          handshake: Buffer.alloc(0),
          answer: { kind: 'malformed', reason: 'alert record shorter than 2 bytes' },
        };
      }
      // A warning (level 1) other than close_notify, such as Apache's unrecognized_name before its
      // ServerHello, is not an answer: keep reading.
      if (record.fragment.readUInt8(0) === 1 && record.fragment.readUInt8(1) !== 0) continue;
      return {
        handshake: Buffer.alloc(0),
        answer: { kind: 'alert', level: record.fragment.readUInt8(0), description: record.fragment.readUInt8(1) },
      };
    }
    if (record.type !== RECORD_HANDSHAKE) {
      return {
        handshake: Buffer.alloc(0),
        answer: { kind: 'malformed', reason: `record type ${record.type} before ServerHello` },
      };
    }
    fragments.push(record.fragment);
  }
  return { handshake: Buffer.concat(fragments) };
}

interface HandshakeMessage {
  type: number;
  body: Buffer;
}

/** The complete messages at the front of the joined handshake bytes; one record may hold several. */
function handshakeMessages(handshake: Buffer): HandshakeMessage[] {
  const messages: HandshakeMessage[] = [];
  let offset = 0;
  while (offset + 4 <= handshake.length) {
    const end = offset + 4 + handshake.readUIntBE(offset + 1, 3);
    if (end > handshake.length) break;
    messages.push({ type: handshake.readUInt8(offset), body: handshake.subarray(offset + 4, end) });
    offset = end;
  }
  return messages;
}

/**
 * Reads the server's first answer to a ClientHello from the bytes received so
 * far. Handshake messages may be split over several records, so the handshake
 * fragments are joined before the first message is read.
 */
export function parseServerResponse(bytes: Buffer): ServerResponse {
  const { records, malformed } = readRecords(bytes);
  const { handshake, answer } = joinHandshake(records);
  if (answer) return answer;
  if (handshake.length >= 4) {
    const type = handshake.readUInt8(0);
    if (type !== HANDSHAKE_SERVER_HELLO)
      return { kind: 'malformed', reason: `handshake message ${type} instead of ServerHello` };
    const [serverHello] = handshakeMessages(handshake);
    if (serverHello) return parseServerHello(serverHello.body);
  }
  if (malformed) return { kind: 'malformed', reason: malformed };
  return { kind: 'incomplete' };
}

export type DhGroupResponse =
  | { kind: 'dh-group'; bits: number }
  /** Not enough bytes yet to decide. */
  | { kind: 'incomplete' }
  /** The server's flight ended or broke off without a readable ServerKeyExchange. */
  | { kind: 'not-seen'; reason: string };

/**
 * The size of dh_p, the first field of the ServerDHParams that open a DHE
 * suite's ServerKeyExchange (RFC 5246 §7.4.3): `opaque dh_p<1..2^16-1>`.
 * Counted from the highest set bit, so a zero-padded prime is not overstated.
 */
export function dhPrimeBits(serverKeyExchange: Buffer): DhGroupResponse {
  if (serverKeyExchange.length < 2) return { kind: 'not-seen', reason: 'ServerKeyExchange shorter than 2 bytes' };
  const length = serverKeyExchange.readUInt16BE(0);
  if (2 + length > serverKeyExchange.length) {
    return {
      kind: 'not-seen',
      reason: `ServerKeyExchange dh_p of ${length} bytes overruns the ${serverKeyExchange.length}-byte message`,
    };
  }
  const prime = serverKeyExchange.subarray(2, 2 + length);
  const first = prime.findIndex((byte) => byte !== 0);
  const top = prime[first];
  if (first < 0 || top === undefined) return { kind: 'not-seen', reason: 'ServerKeyExchange dh_p is zero' };
  return { kind: 'dh-group', bits: (prime.length - first - 1) * 8 + (32 - Math.clz32(top)) };
}

/**
 * Reads on past a TLS 1.2 (or older) ServerHello for a DHE suite: Certificate,
 * then the ServerKeyExchange whose DH prime gives the group size. The
 * messages may span records and one record may hold several.
 */
export function parseDhGroup(bytes: Buffer): DhGroupResponse {
  const { records, malformed } = readRecords(bytes);
  const { handshake, answer, next } = joinHandshake(records);
  if (answer) {
    const reason = answer.kind === 'alert' ? `alert ${alertName(answer.description)}` : answer.reason;
    return { kind: 'not-seen', reason: `${reason} instead of a ServerHello` };
  }
  for (const message of handshakeMessages(handshake)) {
    if (message.type === HANDSHAKE_SERVER_KEY_EXCHANGE) return dhPrimeBits(message.body);
    if (message.type === HANDSHAKE_SERVER_HELLO_DONE) {
      return { kind: 'not-seen', reason: 'ServerHelloDone without a ServerKeyExchange' };
    }
  }
  if (next?.type === RECORD_ALERT && next.fragment.length >= 2) {
    const description = next.fragment.readUInt8(1);
    return {
      kind: 'not-seen',
      reason: `alert ${alertName(description)} (${description}) before the ServerKeyExchange`,
    };
  }
  if (next) return { kind: 'not-seen', reason: `record type ${next.type} before the ServerKeyExchange` };
  if (malformed) return { kind: 'not-seen', reason: malformed };
  return { kind: 'incomplete' };
}

export type HelloResult =
  | {
      outcome: 'server-hello';
      version: number;
      cipherSuite: number;
      helloRetryRequest: boolean;
      /** Set when `readDhGroupOf` asked for this suite's group (TLS 1.2 and older only). */
      dhGroup?: DhGroupObservation;
      elapsedMs: number;
    }
  | { outcome: 'alert'; level: number; description: number; elapsedMs: number }
  /** The server closed or reset the connection without answering: a refusal some servers use. */
  | { outcome: 'closed'; reason: string; elapsedMs: number }
  /** Nothing that allows a verdict: connect failed, timeout, garbage. */
  | { outcome: 'error'; reason: string; elapsedMs: number };

export interface SendOptions {
  /**
   * Suites (by code point) whose DH group to read: for these the probe reads
   * on past a TLS 1.2 (or older) ServerHello to the ServerKeyExchange, since
   * the ServerHello names the suite but not the group's size.
   */
  readDhGroupOf?: (cipherSuite: number) => boolean;
}

/**
 * Sends one ClientHello and resolves with the server's first answer; for a
 * suite `readDhGroupOf` selects, with the DH group read or why it was not.
 * Never rejects.
 */
export function sendClientHello(target: HelloTarget, hello: Buffer, options: SendOptions = {}): Promise<HelloResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let connected = false;
    let settled = false;
    /** The ServerHello of a DHE suite, held while the ServerKeyExchange is still to come. */
    let awaitingGroup: Extract<ServerResponse, { kind: 'server-hello' }> | undefined;
    const socket = net.connect({ host: target.host, port: target.port });
    const finish = (result: HelloResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      target.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
    const finishHello = (
      { version, cipherSuite, helloRetryRequest }: Extract<ServerResponse, { kind: 'server-hello' }>,
      dhGroup?: DhGroupObservation,
    ): void =>
      finish({
        outcome: 'server-hello',
        version,
        cipherSuite,
        helloRetryRequest,
        ...(dhGroup ? { dhGroup } : {}),
        elapsedMs: elapsed(),
      });
    // The suite is accepted either way; only its group goes unseen when the rest of the flight does not come.
    const groupNotSeen = (reason: string): boolean => {
      if (!awaitingGroup) return false;
      finishHello(awaitingGroup, { error: reason });
      return true;
    };
    const readGroup = (serverHello: Extract<ServerResponse, { kind: 'server-hello' }>): void => {
      const group = parseDhGroup(received);
      if (group.kind === 'dh-group') finishHello(serverHello, { bits: group.bits });
      else if (group.kind === 'not-seen') finishHello(serverHello, { error: group.reason });
      else awaitingGroup = serverHello;
    };
    const onAbort = (): void => finish({ outcome: 'error', reason: 'aborted', elapsedMs: elapsed() });
    const timer = setTimeout(() => {
      if (groupNotSeen(`no ServerKeyExchange within ${target.timeoutMs} ms`)) return;
      finish({
        outcome: 'error',
        reason: connected
          ? `no answer within ${target.timeoutMs} ms`
          : `connect to ${target.host}:${target.port} timed out after ${target.timeoutMs} ms`,
        elapsedMs: elapsed(),
      });
    }, target.timeoutMs);
    if (target.signal?.aborted) return onAbort();
    target.signal?.addEventListener('abort', onAbort, { once: true });
    socket.setNoDelay(true);
    socket.on('connect', () => {
      connected = true;
      socket.write(hello);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (awaitingGroup) return readGroup(awaitingGroup);
      const response = parseServerResponse(received);
      if (response.kind === 'server-hello') {
        // TLS 1.3 negotiates named groups in the hello itself; only TLS 1.2 and older send ServerDHParams.
        const readsGroup =
          response.version <= VERSION_CODES['TLSv1.2'] &&
          !response.helloRetryRequest &&
          options.readDhGroupOf?.(response.cipherSuite) === true;
        if (readsGroup) readGroup(response);
        else finishHello(response);
      } else if (response.kind === 'alert') {
        finish({ outcome: 'alert', level: response.level, description: response.description, elapsedMs: elapsed() });
      } else if (response.kind === 'malformed') {
        finish({ outcome: 'error', reason: `unexpected answer: ${response.reason}`, elapsedMs: elapsed() });
      }
    });
    const onClosed = (reason: string): void => {
      if (groupNotSeen(`connection ${reason} before the ServerKeyExchange`)) return;
      if (received.length > 0) {
        finish({
          outcome: 'error',
          reason: `connection closed after an incomplete answer (${reason})`,
          elapsedMs: elapsed(),
        });
      } else {
        finish({ outcome: 'closed', reason, elapsedMs: elapsed() });
      }
    };
    socket.on('end', () => onClosed('closed without an alert'));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) {
        finish({
          outcome: 'error',
          reason: `connect to ${target.host}:${target.port} failed: ${error.code ?? error.message}`,
          elapsedMs: elapsed(),
        });
      } else {
        onClosed(`reset without an alert (${error.code ?? error.message})`);
      }
    });
    socket.on('close', () => onClosed('closed without an alert'));
  });
}
