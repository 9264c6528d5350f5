/**
 * How far a regex can read past where it starts, as a bound a byte scan can
 * check: every path the matcher explores from offset p reads a contiguous
 * stretch [p - 1, r], and in that stretch at most `bound` characters lie
 * outside `runChars` (the characters the regex's unbounded runs, `\s*` or
 * `[\w.]+`, can consume). So once a window of the text holds more than
 * `bound` such characters after p, the regex cannot tell the window from the
 * whole text: its answer at p is the same (scanner.ts decodes large blobs a
 * window at a time on that ground).
 *
 * Only the syntax the rules use is understood; anything else (back
 * references, lookbehind, an unbounded repetition of more than one character
 * class) answers `undefined`, and the scanner then decodes the whole text.
 */

export interface RegexReach {
  /** Characters (outside `runChars`) one path can read, lookahead and the character after a run included. */
  bound: number;
  /** `runChars[c]` = 1: latin1 character c may be consumed by an unbounded run (case folding included). */
  runChars: Uint8Array;
}

class Unsupported extends Error {}

interface Atom {
  bound: number;
  /** A single character class, literal or escape: one character per repetition. */
  charSet: boolean;
  assertion: boolean;
}

const QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;

export function regexReach(regex: RegExp): RegexReach | undefined {
  const source = regex.source;
  const flags = regex.flags.replace(/[gyd]/g, '');
  const runChars = new Uint8Array(256);
  let at = 0;

  const unsupported = (): never => {
    throw new Unsupported(`unsupported at ${at}`);
  };
  // Which latin1 characters the atom matches, asked of the regex engine itself (case folding as it does it).
  const markRun = (atomSource: string): void => {
    const tester = new RegExp(`^(?:${atomSource})$`, flags);
    for (let code = 0; code < 256; code++) if (tester.test(String.fromCharCode(code))) runChars[code] = 1;
  };
  const skipClass = (): void => {
    at++; // [
    while (at < source.length && source[at] !== ']') at += source[at] === '\\' ? 2 : 1;
    if (at >= source.length) unsupported();
    at++; // ]
  };
  const escapeAtom = (): Atom => {
    const next = source[at + 1] ?? '';
    at += 2;
    if (next === 'b' || next === 'B') return { bound: 1, charSet: false, assertion: true };
    if (/[1-9k]/.test(next)) return unsupported();
    if (next === 'x') at += 2;
    else if (next === 'u') {
      if (source[at] === '{') unsupported();
      at += 4;
    } else if (next === 'c') at += 1;
    return { bound: 1, charSet: true, assertion: false };
  };
  const group = (): Atom => {
    at++; // (
    let lookahead = false;
    if (source[at] === '?') {
      const kind = source.slice(at, at + 3);
      if (kind.startsWith('?:')) at += 2;
      else if (kind.startsWith('?=') || kind.startsWith('?!')) {
        lookahead = true;
        at += 2;
      } else if (kind === '?<=' || kind === '?<!') unsupported();
      else if (kind.startsWith('?<')) {
        const close = source.indexOf('>', at);
        if (close === -1) unsupported();
        at = close + 1;
      } else unsupported();
    }
    const bound = disjunction();
    if (source[at] !== ')') unsupported();
    at++;
    return { bound, charSet: false, assertion: lookahead };
  };
  const atom = (): Atom => {
    const char = source[at];
    if (char === '^' || char === '$') {
      at++;
      return { bound: 1, charSet: false, assertion: true };
    }
    if (char === '\\') return escapeAtom();
    if (char === '[') {
      skipClass();
      return { bound: 1, charSet: true, assertion: false };
    }
    if (char === '(') return group();
    if (char === '*' || char === '+' || char === '?' || char === '{' || char === ']' || char === '}') unsupported();
    at++;
    return { bound: 1, charSet: true, assertion: false };
  };
  const quantifier = (): { max: number } | undefined => {
    const char = source[at];
    let max: number;
    if (char === '*' || char === '+') {
      max = Number.POSITIVE_INFINITY;
      at++;
    } else if (char === '?') {
      max = 1;
      at++;
    } else {
      const braces = QUANTIFIER.exec(source.slice(at));
      if (!braces) return undefined;
      max =
        braces[2] === undefined ? Number(braces[1]) : braces[3] === '' ? Number.POSITIVE_INFINITY : Number(braces[3]);
      at += braces[0].length;
    }
    if (source[at] === '?') at++; // lazy: the same characters, in another order
    return { max };
  };
  const term = (): number => {
    const start = at;
    const parsed = atom();
    const end = at;
    const repeat = quantifier();
    if (!repeat) return parsed.bound;
    if (parsed.assertion) return unsupported();
    if (repeat.max !== Number.POSITIVE_INFINITY) return repeat.max * parsed.bound;
    if (!parsed.charSet) return unsupported();
    markRun(source.slice(start, end));
    // The run reads only its own characters, and one more that ends it.
    return 1;
  };
  function alternative(): number {
    let sum = 0;
    while (at < source.length && source[at] !== '|' && source[at] !== ')') sum += term();
    return sum;
  }
  function disjunction(): number {
    let bound = alternative();
    while (source[at] === '|') {
      at++;
      bound = Math.max(bound, alternative());
    }
    return bound;
  }

  try {
    const bound = disjunction();
    if (at !== source.length) unsupported();
    return { bound, runChars };
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
