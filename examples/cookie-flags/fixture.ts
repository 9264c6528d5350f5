/**
 * The example's target: an HTTPS server whose /login sets two cookies — `theme` with every flag,
 * and `session` with the attributes a case gives — so a failure can only name `session`.
 */
import { randomBytes } from 'node:crypto';
import { type HttpsTarget, startHttpsTarget } from 'secgate/testing';

export const FLAGGED = 'Secure; HttpOnly; SameSite=Lax';

export function startCookieServer(sessionAttributes = FLAGGED): Promise<HttpsTarget> {
  return startHttpsTarget((request, response) => {
    if (request.url === '/login') {
      // A fresh random value per answer, as a session id would be.
      const session = randomBytes(16).toString('hex');
      response.setHeader('set-cookie', [
        `theme=dark; Path=/; ${FLAGGED}`,
        `session=${session}; Path=/${sessionAttributes ? `; ${sessionAttributes}` : ''}`,
      ]);
    }
    response.end('ok');
  });
}
