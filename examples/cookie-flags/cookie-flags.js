// @ts-check
/**
 * example.cookie-flags — a check written outside secgate, as a plugin: every cookie a path sets
 * carries Secure (never sent in clear text), HttpOnly (out of reach of page scripts) and an
 * accepted SameSite (not sent on cross-site requests). Plain JavaScript, so a checklist can name
 * it with no build step; `// @ts-check` and secgate's types still check it in an editor.
 *
 * It imports only from `secgate`: the check contract (`defineCheck`) and the zod that reads its
 * `with:` parameters.
 */
import { defineCheck, z } from 'secgate';

/** SameSite values, as RFC 6265bis spells them. */
const SAME_SITE = /** @type {const} */ (['Strict', 'Lax', 'None']);

export default defineCheck({
  id: 'example.cookie-flags',
  title: 'Every cookie the path sets is Secure, HttpOnly and SameSite',
  source: 'examples/cookie-flags: OWASP Session Management Cheat Sheet, cookie attributes',
  remediation:
    'Set Secure, HttpOnly and SameSite=Lax (or Strict) on every cookie this path sets, in the framework session and cookie settings',
  effects: 'none',
  severity: 'medium',
  params: z
    .object({
      /** The path whose answer sets the cookies (a login page, a session endpoint). */
      path: z.string().regex(/^\//, { message: 'expected a path starting with /' }).default('/'),
      /** SameSite values that count as set. */
      same_site: z.array(z.enum(SAME_SITE)).min(1).default(['Strict', 'Lax']),
    })
    .strict(),
  async run(ctx, params) {
    const probe = `GET ${params.path}`;
    const response = await ctx.http.request(new URL(params.path, ctx.target.url));
    const header = response.headers['set-cookie'];
    const cookies = header === undefined ? [] : Array.isArray(header) ? header : [header];
    if (cookies.length === 0) {
      // Nothing observed is never a pass: a path that sets no cookie proves nothing about its cookies.
      return {
        status: 'error',
        summary: `${probe} set no cookie (answered ${response.status}): nothing to judge; name a path that sets them`,
        observations: [{ probe, expected: 'at least one Set-Cookie', actual: response.status, ok: false }],
      };
    }
    const observations = cookies.map((cookie) => judgeCookie(probe, cookie, params.same_site));
    const broken = observations.filter((observation) => observation.ok === false);
    return {
      status: broken.length === 0 ? 'pass' : 'fail',
      summary:
        broken.length === 0
          ? `${probe}: ${cookies.length} cookie(s), each Secure, HttpOnly and SameSite`
          : `${probe}: ${broken.map((observation) => observation.note).join('; ')}`,
      observations,
    };
  },
});

/**
 * One Set-Cookie judged by its attributes. Only the cookie's name is recorded: its value may be a
 * session credential and never enters the evidence.
 *
 * @param {string} probe
 * @param {string} header
 * @param {readonly string[]} accepted
 */
function judgeCookie(probe, header, accepted) {
  const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
  const name = pair.split('=')[0]?.trim() ?? '';
  const flags = new Map(
    attributes.map((attribute) => {
      const [key = '', value = ''] = attribute.split('=');
      return [key.trim().toLowerCase(), value.trim()];
    }),
  );
  const sameSite = flags.get('samesite');
  const actual = { secure: flags.has('secure'), httpOnly: flags.has('httponly'), sameSite: sameSite ?? null };
  const missing = [
    ...(actual.secure ? [] : ['Secure']),
    ...(actual.httpOnly ? [] : ['HttpOnly']),
    ...(accepted.some((value) => value.toLowerCase() === sameSite?.toLowerCase())
      ? []
      : [`SameSite=${accepted.join('|')}`]),
  ];
  return {
    probe: `${probe}: Set-Cookie ${name}`,
    expected: { secure: true, httpOnly: true, sameSite: [...accepted] },
    actual,
    ok: missing.length === 0,
    ...(missing.length > 0 ? { note: `cookie ${name} lacks ${missing.join(', ')}` } : {}),
  };
}
