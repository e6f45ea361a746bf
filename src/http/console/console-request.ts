import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { ConsoleSession } from './session-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: ConsoleSession | null;
    /** Set once the CSRF token was checked (header or urlencoded field); multipart forms check their first part. */
    csrfChecked: boolean;
  }
  interface FastifyContextConfig {
    /** Console routes that need no session: the sign-in form and static assets. */
    consoleOpen?: boolean;
  }
}

/** The session of a console request; routes reached without one were already redirected. */
export function sessionOf(request: FastifyRequest): ConsoleSession {
  if (!request.consoleSession) throw new AppError('unauthorized', 'Sign in to the console first.');
  return request.consoleSession;
}

/** Whether the client wants JSON (the console's own fetch calls) rather than a page. */
export function wantsJson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('application/json');
}

/** A query value if it is one of `allowed`, else `fallback`: pages answer an unknown choice with their default. */
export function oneOf<T extends string>(allowed: readonly T[], value: string | undefined, fallback: T): T {
  return allowed.find((choice) => choice === value) ?? fallback;
}
