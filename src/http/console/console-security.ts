import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { tokensEqual } from './session-store.js';

export const SESSION_COOKIE = 'roster_session';
/** Holds the sign-in form's own CSRF token before a session exists (login CSRF). */
export const SIGN_IN_COOKIE = 'roster_sign_in';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Console pages run only our own scripts and styles, post only to us, and are never framed. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers every console response carries: the CSP, no sniffing, no framing, same-origin referrers. */
export function securityHeaders(reply: FastifyReply): void {
  void reply.headers({
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  });
}

/** Console cookies: HttpOnly, SameSite=Strict, Path=/console, Secure when the request came over https. */
export function cookieOptions(request: FastifyRequest, maxAgeSeconds: number) {
  return {
    path: '/console',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: request.protocol === 'https',
    maxAge: maxAgeSeconds,
  };
}

/**
 * A state-changing request must come from our own pages: Sec-Fetch-Site same-origin when the
 * browser sends it (every current one does), else an Origin naming our host; one of the two must
 * be there. The Origin's scheme is not compared: behind a proxy that ends TLS the browser says
 * https while this server sees http.
 */
export function checkSameOrigin(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) {
    if (site !== 'same-origin')
      throw new AppError('csrf_rejected', 'This form was sent from another site; open the console and try again.');
    return;
  }
  const origin = request.headers.origin;
  if (origin === undefined)
    throw new AppError(
      'csrf_rejected',
      'The request does not say where it came from (no Origin); the console only takes forms from its own pages.',
    );
  // Both read as URLs of the Origin's scheme, so a default port (:80, :443) compares equal to none.
  let same = false;
  try {
    const from = new URL(origin);
    same = from.host === new URL(`${from.protocol}//${request.headers.host ?? ''}`).host;
  } catch {
    same = false;
  }
  if (!same)
    throw new AppError('csrf_rejected', 'This form was sent from another origin; open the console and try again.');
}

/** The synchronizer token: the X-CSRF-Token header of a fetch, else the form's _csrf field. */
export function checkCsrfToken(presented: string | undefined, expected: string): void {
  if (!tokensEqual(presented, expected))
    throw new AppError(
      'csrf_rejected',
      'The form has expired or is missing its security token; reload the page and try again.',
    );
}

/** The _csrf field of a urlencoded form's body, whatever route it was posted to; undefined when there is none. */
export function csrfFieldOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value: unknown = Reflect.get(body, CSRF_FIELD);
  return typeof value === 'string' ? value : undefined;
}

/** The X-CSRF-Token header the console's own fetch and XMLHttpRequest calls send. */
export function headerToken(request: FastifyRequest): string | undefined {
  const value = request.headers[CSRF_HEADER];
  return Array.isArray(value) ? value[0] : value;
}

/** Where to go after signing in: only a console path of ours, never another site. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(\/[A-Za-z0-9._~\-/%?=&+]*)?$/.test(next) && !next.includes('//')
    ? next
    : '/console/';
}
