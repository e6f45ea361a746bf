import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { AppError } from '../errors.js';

/**
 * JSON only (multipart routes add their own parser): text/plain and other types answer 415.
 * The JSON parser tells a syntax error (with its position) from a __proto__/constructor key,
 * which is refused rather than silently dropped so no prototype can be polluted.
 */
export function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string' },
    (_request, body, done) => {
      const text = body as string;
      if (text.trim().length === 0) {
        done(
          new AppError(
            'invalid_json',
            'The request body is empty but Content-Type is application/json; send a JSON object.',
          ),
          undefined,
        );
        return;
      }
      try {
        done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
      } catch (error) {
        const message = (error as Error).message;
        if (/forbidden (prototype|constructor) property/i.test(message))
          done(new AppError('forbidden_property'), undefined);
        else done(new AppError('invalid_json', `The request body is not valid JSON: ${message}.`), undefined);
      }
    },
  );
}
