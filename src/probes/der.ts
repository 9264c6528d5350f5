/**
 * Just enough DER (ITU-T X.690) to walk a certificate's outer structure:
 * elements with one-byte tags and definite lengths, and object identifiers.
 * The TLS checks need one field Node's X509Certificate does not expose (the
 * signature algorithm); a general ASN.1 library, node-forge's, cost the
 * TLS-only gate a tenth of a second just to load (bench/results/startup.md).
 * Anything DER does not allow, or that runs past its parent, throws: a
 * certificate read wrongly must never be judged.
 */

/** One element: its tag byte and where its content lies in the buffer. */
export interface DerElement {
  tag: number;
  /** First content byte. */
  start: number;
  /** One past the last content byte; also where the next sibling begins. */
  end: number;
}

export const DER_TAG = {
  objectIdentifier: 0x06,
  sequence: 0x30,
  /** [0], constructed: an EXPLICIT context-specific tag, as in RSASSA-PSS-params. */
  contextConstructed0: 0xa0,
} as const;

/** The element at `offset`, which must end by `limit`. */
export function readDerElement(bytes: Uint8Array, offset = 0, limit = bytes.length): DerElement {
  if (offset + 2 > limit) throw new Error(`DER: an element at byte ${offset} is cut short`);
  const tag = bytes[offset] as number;
  // High tag numbers (low five bits all set) never occur in the structures read here.
  if ((tag & 0x1f) === 0x1f) throw new Error(`DER: a multi-byte tag at byte ${offset}`);
  const first = bytes[offset + 1] as number;
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    // 0x80 is BER's indefinite length, which DER forbids; four length bytes already say 4 GiB.
    if (count === 0 || count > 4)
      throw new Error(`DER: length of ${count === 0 ? 'indefinite' : `${count} bytes`} at byte ${offset}`);
    if (start + count > limit) throw new Error(`DER: the length at byte ${offset} is cut short`);
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + (bytes[start + index] as number);
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new Error(`DER: the element at byte ${offset} runs ${end - limit} bytes past its parent`);
  return { tag, start, end };
}

/** The elements inside a constructed one, in order. */
export function derChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readDerElement(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** The dotted form of an OBJECT IDENTIFIER's content (X.690 8.19). */
export function derObjectIdentifier(bytes: Uint8Array, element: DerElement): string {
  if (element.tag !== DER_TAG.objectIdentifier) throw new Error(`DER: tag 0x${element.tag.toString(16)} is not an OID`);
  if (element.end <= element.start) throw new Error('DER: an empty OID');
  const arcs: bigint[] = [];
  let arc = 0n;
  let inArc = false;
  for (let at = element.start; at < element.end; at++) {
    const byte = bytes[at] as number;
    // A leading 0x80 pads an arc, which DER forbids.
    if (!inArc && byte === 0x80) throw new Error('DER: an OID arc with a padding byte');
    arc = (arc << 7n) | BigInt(byte & 0x7f);
    inArc = (byte & 0x80) !== 0;
    if (!inArc) {
      arcs.push(arc);
      arc = 0n;
    }
  }
  if (inArc) throw new Error('DER: an OID ends inside an arc');
  // The first subidentifier holds two arcs: 40 × first + second, the first being at most 2.
  const [combined = 0n, ...rest] = arcs;
  const first = combined < 80n ? combined / 40n : 2n;
  return [first, combined - first * 40n, ...rest].join('.');
}
