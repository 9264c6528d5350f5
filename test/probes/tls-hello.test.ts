/**
 * The pure core of the raw TLS probe, against byte sequences written out by
 * hand from the RFCs (RFC 5246 §7.4, RFC 8446 §4.1, RFC 8448 §3).
 */
import { getDiffieHellman, randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  alertName,
  buildClientHello,
  dhPrimeBits,
  parseDhGroup,
  parseServerResponse,
  sendClientHello,
  versionName,
} from '../../src/probes/tls-hello.js';
import { judgeVersion } from '../../src/probes/tls-scan.js';
import { cipherSuiteName, LEGACY_SUITES, suiteWeaknesses, TLS13_SUITES } from '../../src/probes/tls-suites.js';

const fixedRandom = Buffer.alloc(32, 0xab);
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** RFC 8448 §3 (Simple 1-RTT Handshake): the server's ServerHello record. */
const RFC8448_SERVER_HELLO = hex(`
  16 03 03 00 5a 02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14 34 da
  c1 55 77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7
  c6 72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04`);

describe('buildClientHello', () => {
  it('writes an SSLv3 hello byte for byte: no extensions, SCSV appended', () => {
    const hello = buildClientHello({ version: 'SSLv3', cipherSuites: [0x002f], random: fixedRandom });
    const expected = Buffer.concat([
      hex('16 0300 002f'), // handshake record, SSLv3, 47 bytes
      hex('01 00002b 0300'), // ClientHello, 43 bytes, client_version SSLv3
      fixedRandom,
      hex('00'), // empty session id
      hex('0004 002f 00ff'), // TLS_RSA_WITH_AES_128_CBC_SHA + TLS_EMPTY_RENEGOTIATION_INFO_SCSV
      hex('01 00'), // compression: null
    ]);
    expect(hello.toString('hex')).toBe(expected.toString('hex'));
  });

  it('writes TLS 1.0–1.2 hellos with the version in client_version and TLS 1.0 on the record layer', () => {
    for (const [version, code] of [
      ['TLSv1.0', '0301'],
      ['TLSv1.1', '0302'],
      ['TLSv1.2', '0303'],
    ] as const) {
      const hello = buildClientHello({ version, cipherSuites: [0xc02f, 0x009c], random: fixedRandom });
      expect(hello.subarray(0, 3).toString('hex')).toBe('160301');
      expect(hello.readUInt16BE(3)).toBe(hello.length - 5);
      expect(hello.readUInt8(5)).toBe(1);
      expect(hello.readUIntBE(6, 3)).toBe(hello.length - 9);
      expect(hello.subarray(9, 11).toString('hex')).toBe(code);
      expect(hello.subarray(11, 43)).toEqual(fixedRandom);
      expect(hello.subarray(43, 50).toString('hex')).toBe('00' + '0004' + 'c02f009c');
      // No supported_versions extension (0x002b): a TLS 1.3 server must negotiate this exact version.
      expect(hello.includes(hex('002b0003'))).toBe(false);
      // signature_algorithms (0x000d) only from TLS 1.2 on (RFC 5246 §7.4.1.4.1).
      expect(hello.includes(hex('000d 0024 0022'))).toBe(version === 'TLSv1.2');
    }
  });

  it('puts the SNI host name in a server_name extension', () => {
    const hello = buildClientHello({ version: 'TLSv1.2', cipherSuites: [0xc02f], serverName: 'example.com' });
    // type 0000, ext length 16, list length 14, host_name(0), name length 11, "example.com"
    expect(hello.includes(Buffer.concat([hex('0000 0010 000e 00 000b'), Buffer.from('example.com')]))).toBe(true);
  });

  it('writes a TLS 1.3 hello with legacy_version 1.2, a 32-byte session id, supported_versions and an x25519 key share', () => {
    const publicKey = Buffer.alloc(32, 0x11);
    const sessionId = Buffer.alloc(32, 0x22);
    const hello = buildClientHello({
      version: 'TLSv1.3',
      cipherSuites: TLS13_SUITES.map((suite) => suite.code),
      random: fixedRandom,
      sessionId,
      x25519PublicKey: publicKey,
    });
    expect(hello.subarray(9, 11).toString('hex')).toBe('0303');
    expect(hello.readUInt8(43)).toBe(32);
    expect(hello.subarray(44, 76)).toEqual(sessionId);
    expect(hello.subarray(76, 88).toString('hex')).toBe('000a' + '13011302130313041305');
    expect(hello.includes(hex('002b 0003 02 0304'))).toBe(true);
    expect(hello.includes(Buffer.concat([hex('0033 0026 0024 001d 0020'), publicKey]))).toBe(true);
  });
});

describe('parseServerResponse', () => {
  it('reads the RFC 8448 ServerHello: TLS 1.3 from supported_versions, TLS_AES_128_GCM_SHA256', () => {
    expect(parseServerResponse(RFC8448_SERVER_HELLO)).toEqual({
      kind: 'server-hello',
      version: 0x0304,
      cipherSuite: 0x1301,
      helloRetryRequest: false,
    });
  });

  it('waits for more bytes while the record is incomplete', () => {
    expect(parseServerResponse(RFC8448_SERVER_HELLO.subarray(0, 40))).toEqual({ kind: 'incomplete' });
    expect(parseServerResponse(Buffer.alloc(0))).toEqual({ kind: 'incomplete' });
  });

  it('joins a ServerHello split over two records', () => {
    const message = RFC8448_SERVER_HELLO.subarray(5);
    const first = Buffer.concat([hex('16 0303 0014'), message.subarray(0, 20)]);
    const restLength = message.length - 20;
    const second = Buffer.concat([
      hex('16 0303'),
      Buffer.from([restLength >> 8, restLength & 0xff]),
      message.subarray(20),
    ]);
    expect(parseServerResponse(first)).toEqual({ kind: 'incomplete' });
    expect(parseServerResponse(Buffer.concat([first, second]))).toMatchObject({
      kind: 'server-hello',
      version: 0x0304,
    });
  });

  it('stops at the ChangeCipherSpec and encrypted records that follow a TLS 1.3 ServerHello', () => {
    const trailing = Buffer.concat([RFC8448_SERVER_HELLO, hex('14 0303 0001 01'), hex('17 0303 0003 aabbcc')]);
    expect(parseServerResponse(trailing)).toMatchObject({ kind: 'server-hello', cipherSuite: 0x1301 });
  });

  it('reads a TLS 1.2 ServerHello without extensions', () => {
    const body = Buffer.concat([hex('0303'), fixedRandom, hex('00'), hex('c02f'), hex('00')]);
    const record = Buffer.concat([
      hex('16 0303'),
      hex((body.length + 4).toString(16).padStart(4, '0')),
      hex('02 00'),
      hex(body.length.toString(16).padStart(4, '0')),
      body,
    ]);
    expect(parseServerResponse(record)).toEqual({
      kind: 'server-hello',
      version: 0x0303,
      cipherSuite: 0xc02f,
      helloRetryRequest: false,
    });
  });

  it('recognises a HelloRetryRequest by its special random', () => {
    const hrrRandom = hex('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');
    const body = Buffer.concat([hex('0303'), hrrRandom, hex('00 1302 00'), hex('0006 002b 0002 0304')]);
    const record = Buffer.concat([
      hex('16 0303'),
      hex((body.length + 4).toString(16).padStart(4, '0')),
      hex('02 00'),
      hex(body.length.toString(16).padStart(4, '0')),
      body,
    ]);
    expect(parseServerResponse(record)).toEqual({
      kind: 'server-hello',
      version: 0x0304,
      cipherSuite: 0x1302,
      helloRetryRequest: true,
    });
  });

  it('reads a fatal protocol_version alert', () => {
    expect(parseServerResponse(hex('15 0303 0002 02 46'))).toEqual({ kind: 'alert', level: 2, description: 70 });
    expect(alertName(70)).toBe('protocol_version');
    expect(alertName(40)).toBe('handshake_failure');
  });

  it('calls an HTTP answer malformed instead of guessing', () => {
    expect(parseServerResponse(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toMatchObject({ kind: 'malformed' });
  });
});

/** A handshake message: type, 24-bit length, body. */
function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
}

/** Handshake records carrying `handshake`, cut into fragments of the given sizes (the rest in a last one). */
function handshakeRecords(handshake: Buffer, sizes: readonly number[] = []): Buffer {
  const records: Buffer[] = [];
  let offset = 0;
  for (const size of [...sizes, handshake.length]) {
    if (offset >= handshake.length) break;
    const fragment = handshake.subarray(offset, Math.min(handshake.length, offset + size));
    records.push(Buffer.from([22, 3, 3, fragment.length >> 8, fragment.length & 0xff]), fragment);
    offset += fragment.length;
  }
  return Buffer.concat(records);
}

/** A TLS 1.2 ServerHello choosing `suite`, without extensions. */
function tls12ServerHello(suite: number): Buffer {
  return handshakeMessage(
    2,
    Buffer.concat([hex('0303'), fixedRandom, hex('00'), Buffer.from([suite >> 8, suite & 0xff, 0])]),
  );
}

/**
 * ServerDHParams (dh_p, dh_g, dh_Ys) followed by a signature, as a DHE_RSA
 * ServerKeyExchange body (RFC 5246 §7.4.3). The prime comes from a well-known
 * group; Ys and the signature are random bytes (nothing here verifies them).
 */
function dheServerKeyExchange(prime: Buffer): Buffer {
  const opaque16 = (value: Buffer): Buffer =>
    Buffer.concat([Buffer.from([value.length >> 8, value.length & 0xff]), value]);
  return Buffer.concat([
    opaque16(prime),
    opaque16(Buffer.from([2])),
    opaque16(randomBytes(prime.length)),
    hex('0401'), // rsa_pkcs1_sha256
    opaque16(randomBytes(256)),
  ]);
}

/** ServerHello, Certificate (random bytes, several kB so it spans records), ServerKeyExchange, ServerHelloDone. */
function dheFlight(prime: Buffer): Buffer {
  return Buffer.concat([
    tls12ServerHello(0x009e),
    handshakeMessage(11, randomBytes(3000)),
    handshakeMessage(12, dheServerKeyExchange(prime)),
    handshakeMessage(14, Buffer.alloc(0)),
  ]);
}

const MODP2_PRIME = getDiffieHellman('modp2').getPrime();
const MODP14_PRIME = getDiffieHellman('modp14').getPrime();

describe('parseDhGroup (the ServerKeyExchange after a DHE ServerHello)', () => {
  it('reads the prime size when ServerHello, Certificate, ServerKeyExchange and ServerHelloDone share one record', () => {
    expect(parseDhGroup(handshakeRecords(dheFlight(MODP2_PRIME)))).toEqual({ kind: 'dh-group', bits: 1024 });
    expect(parseDhGroup(handshakeRecords(dheFlight(MODP14_PRIME)))).toEqual({ kind: 'dh-group', bits: 2048 });
  });

  it('joins a ServerKeyExchange split across records, and waits while part of it is missing', () => {
    const flight = dheFlight(MODP2_PRIME);
    // ServerHello, then the Certificate's 4-byte header and 3000-byte body.
    const keyExchangeStart = tls12ServerHello(0x009e).length + 4 + 3000;
    expect(flight.readUInt8(keyExchangeStart)).toBe(12);
    // Cut inside the Certificate, inside the ServerKeyExchange header, inside dh_p, and inside the signature.
    const split = handshakeRecords(flight, [100, keyExchangeStart - 100 + 2, 60, 5, 200]);
    expect(parseDhGroup(split)).toEqual({ kind: 'dh-group', bits: 1024 });
    // Only the records up to the middle of dh_p: nothing to decide yet.
    const recordsUpToPrime = handshakeRecords(flight.subarray(0, keyExchangeStart + 4 + 2 + 60), [
      100,
      keyExchangeStart - 100 + 2,
      60,
    ]);
    expect(parseDhGroup(recordsUpToPrime)).toEqual({ kind: 'incomplete' });
    // A record cut short (its header promises more bytes than have come) waits too.
    expect(parseDhGroup(split.subarray(0, split.length - 10))).toEqual({ kind: 'incomplete' });
  });

  it('reads a one-byte-per-record flight', () => {
    const flight = dheFlight(MODP14_PRIME);
    expect(parseDhGroup(handshakeRecords(flight, Array(flight.length).fill(1)))).toEqual({
      kind: 'dh-group',
      bits: 2048,
    });
  });

  it('counts the prime from its highest set bit, so zero padding does not overstate it', () => {
    const padded = Buffer.concat([Buffer.alloc(2), MODP2_PRIME]);
    expect(dhPrimeBits(dheServerKeyExchange(padded))).toEqual({ kind: 'dh-group', bits: 1024 });
    expect(dhPrimeBits(dheServerKeyExchange(hex('017f')))).toEqual({ kind: 'dh-group', bits: 9 });
  });

  it('reports what it could not see: no ServerKeyExchange, an alert, a dh_p that overruns its message', () => {
    const withoutKeyExchange = Buffer.concat([
      tls12ServerHello(0x009e),
      handshakeMessage(11, randomBytes(100)),
      handshakeMessage(14, Buffer.alloc(0)),
    ]);
    expect(parseDhGroup(handshakeRecords(withoutKeyExchange))).toEqual({
      kind: 'not-seen',
      reason: 'ServerHelloDone without a ServerKeyExchange',
    });
    const alertAfterHello = Buffer.concat([handshakeRecords(tls12ServerHello(0x009e)), hex('15 0303 0002 02 28')]);
    expect(parseDhGroup(alertAfterHello)).toEqual({
      kind: 'not-seen',
      reason: 'alert handshake_failure (40) before the ServerKeyExchange',
    });
    expect(dhPrimeBits(hex('0100 ffff'))).toEqual({
      kind: 'not-seen',
      reason: 'ServerKeyExchange dh_p of 256 bytes overruns the 4-byte message',
    });
    expect(dhPrimeBits(hex('0002 0000'))).toEqual({ kind: 'not-seen', reason: 'ServerKeyExchange dh_p is zero' });
  });
});

describe('judgeVersion', () => {
  it('accepts only a ServerHello for the offered version', () => {
    const accepted = judgeVersion('TLSv1.0', {
      outcome: 'server-hello',
      version: 0x0301,
      cipherSuite: 0xc014,
      helloRetryRequest: false,
      elapsedMs: 1,
    });
    expect(accepted).toMatchObject({ state: 'accepted', cipherSuite: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA' });
    const downgraded = judgeVersion('TLSv1.3', {
      outcome: 'server-hello',
      version: 0x0303,
      cipherSuite: 0xc02f,
      helloRetryRequest: false,
      elapsedMs: 1,
    });
    expect(downgraded).toMatchObject({ state: 'refused', answer: 'server answered with TLSv1.2' });
  });

  it('refuses on an alert or a silent close, and has no verdict on a probe error', () => {
    expect(judgeVersion('TLSv1.1', { outcome: 'alert', level: 2, description: 70, elapsedMs: 1 })).toMatchObject({
      state: 'refused',
      answer: 'alert protocol_version (70)',
    });
    expect(judgeVersion('SSLv3', { outcome: 'closed', reason: 'closed without an alert', elapsedMs: 1 })).toMatchObject(
      { state: 'refused' },
    );
    expect(
      judgeVersion('TLSv1.2', { outcome: 'error', reason: 'no answer within 10 ms', elapsedMs: 10 }),
    ).toMatchObject({ state: 'unknown' });
  });
});

describe('cipher suite table', () => {
  it('has unique code points and names', () => {
    const all = [...TLS13_SUITES, ...LEGACY_SUITES];
    expect(new Set(all.map((suite) => suite.code)).size).toBe(all.length);
    expect(new Set(all.map((suite) => suite.name)).size).toBe(all.length);
    expect(cipherSuiteName(0xc02f)).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(cipherSuiteName(0xfefe)).toBe('0xfefe');
    expect(versionName(0x0302)).toBe('TLSv1.1');
  });

  it.each([
    ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', []],
    ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', []],
    ['TLS_AES_256_GCM_SHA384', []],
    ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', ['cbc']],
    ['TLS_RSA_WITH_AES_128_GCM_SHA256', ['no-forward-secrecy']],
    ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', ['no-forward-secrecy', 'cbc', '3des']],
    ['TLS_ECDHE_RSA_WITH_RC4_128_SHA', ['rc4']],
    ['TLS_RSA_WITH_NULL_SHA256', ['no-forward-secrecy', 'null']],
    ['TLS_RSA_EXPORT_WITH_DES40_CBC_SHA', ['no-forward-secrecy', 'cbc', 'des', 'export']],
    ['TLS_DH_anon_WITH_AES_128_GCM_SHA256', ['no-forward-secrecy', 'anonymous']],
    ['TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256', ['no-forward-secrecy']],
    ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', ['finite-field-dhe']],
    ['TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA', ['no-forward-secrecy', 'finite-field-dhe', 'cbc', 'des', 'export']],
  ])('%s has weaknesses %j', (name, weaknesses) => {
    expect(suiteWeaknesses(name)).toEqual(weaknesses);
  });
});

describe('sendClientHello (the I/O edge)', () => {
  const hello = buildClientHello({ version: 'TLSv1.2', cipherSuites: [0xc02f] });

  async function listenOnLoopback(server: net.Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('no port');
    return address.port;
  }

  it('gives no verdict when the server accepts the connection and stays silent', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
    });
    const port = await listenOnLoopback(server);
    try {
      const result = await sendClientHello({ host: '127.0.0.1', port, timeoutMs: 200 }, hello);
      expect(result).toMatchObject({ outcome: 'error', reason: 'no answer within 200 ms' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a silent close as a refusal, distinct from an error', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end());
    });
    const port = await listenOnLoopback(server);
    try {
      expect(await sendClientHello({ host: '127.0.0.1', port, timeoutMs: 2_000 }, hello)).toMatchObject({
        outcome: 'closed',
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const dheHello = buildClientHello({ version: 'TLSv1.2', cipherSuites: [0x009e] });
  const readDhGroupOf = (suite: number): boolean => suite === 0x009e;

  it('reads on to a ServerKeyExchange that arrives in pieces, for the suites it is asked about', async () => {
    const flight = handshakeRecords(dheFlight(MODP2_PRIME), [2000, 1500]);
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        // The ServerHello and part of the Certificate first, the rest a moment later.
        socket.write(flight.subarray(0, 600));
        setTimeout(() => socket.write(flight.subarray(600)), 50);
      });
    });
    const port = await listenOnLoopback(server);
    try {
      const target = { host: '127.0.0.1', port, timeoutMs: 2_000 };
      expect(await sendClientHello(target, dheHello, { readDhGroupOf })).toMatchObject({
        outcome: 'server-hello',
        cipherSuite: 0x009e,
        dhGroup: { bits: 1024 },
      });
      // Not asked: the ServerHello alone answers, as before.
      const plain = await sendClientHello(target, dheHello);
      expect(plain).toMatchObject({ outcome: 'server-hello', cipherSuite: 0x009e });
      expect(plain).not.toHaveProperty('dhGroup');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps the accepted suite but reports its group unseen when the server closes after the ServerHello', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end(handshakeRecords(tls12ServerHello(0x009e))));
    });
    const port = await listenOnLoopback(server);
    try {
      const result = await sendClientHello({ host: '127.0.0.1', port, timeoutMs: 2_000 }, dheHello, {
        readDhGroupOf,
      });
      expect(result).toMatchObject({
        outcome: 'server-hello',
        cipherSuite: 0x009e,
        dhGroup: { error: 'connection closed without an alert before the ServerKeyExchange' },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports the group unseen when the ServerKeyExchange never comes', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.write(handshakeRecords(tls12ServerHello(0x009e))));
    });
    const port = await listenOnLoopback(server);
    try {
      const result = await sendClientHello({ host: '127.0.0.1', port, timeoutMs: 200 }, dheHello, { readDhGroupOf });
      expect(result).toMatchObject({
        outcome: 'server-hello',
        dhGroup: { error: 'no ServerKeyExchange within 200 ms' },
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('stops at once when the run is aborted', async () => {
    const result = await sendClientHello(
      { host: '127.0.0.1', port: 9, timeoutMs: 5_000, signal: AbortSignal.abort() },
      hello,
    );
    expect(result).toMatchObject({ outcome: 'error', reason: 'aborted' });
  });
});

describe('warning alerts', () => {
  it('skips a warning alert (unrecognized_name) and reads the fatal alert after it', () => {
    const warning = Buffer.from([21, 3, 3, 0, 2, 1, 112]);
    const fatal = Buffer.from([21, 3, 3, 0, 2, 2, 40]);
    expect(parseServerResponse(Buffer.concat([warning, fatal]))).toEqual({ kind: 'alert', level: 2, description: 40 });
  });
});
