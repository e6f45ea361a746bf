import type { FastifyRequest } from 'fastify';

/** Masks phone-like digit runs in a URL: `/callers/+919876543210` → `/callers/+91******10`. */
export function maskPhoneDigits(text: string): string {
  return text.replace(/(%2B|\+)?(\d[\d\s().-]{5,}\d)/gi, (_match, plus: string | undefined, digits: string) => {
    const only = digits.replace(/\D/g, '');
    if (only.length < 7) return `${plus ?? ''}${digits}`;
    return `${plus ?? ''}${only.slice(0, 2)}${'*'.repeat(only.length - 4)}${only.slice(-2)}`;
  });
}

/** What a request line in the logs shows: never a key, never a whole phone number. */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: maskPhoneDigits(request.url),
    remoteAddress: request.ip,
  };
}
