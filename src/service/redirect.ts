/**
 * The plain-HTTP listener: every request, whatever its method or path, gets
 * a 308 to the same path on the HTTPS origin. The origin is configured, never
 * taken from the Host header, so the redirect cannot be pointed elsewhere.
 */
import http from 'node:http';
import { SECURITY_HEADERS } from './http-policy.js';

export function redirectLocation(httpsOrigin: string, requestUrl: string | undefined): string {
  const pathAndQuery = requestUrl?.startsWith('/') ? requestUrl : '/';
  // `new URL('//evil.example/', origin)` would change the host; keep the origin fixed.
  return `${httpsOrigin}${pathAndQuery.replace(/^\/+/, '/')}`;
}

export function createRedirectServer(httpsOrigin: string): http.Server {
  return http.createServer((request, response) => {
    request.resume();
    const { 'strict-transport-security': _hsts, ...headers } = SECURITY_HEADERS;
    response.writeHead(308, {
      ...headers,
      location: redirectLocation(httpsOrigin, request.url),
      'content-length': '0',
    });
    response.end();
  });
}
