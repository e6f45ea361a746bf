import type { ServerResponse } from 'node:http';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UploadLimits, UploadParts } from '../services/upload-parts.js';

/**
 * A request's multipart parts, read under an intake's limits (they override the plugin's), for the
 * intake to consume; undefined when the request is not multipart, which the intake refuses in its words.
 */
export function uploadParts(request: FastifyRequest, limits: UploadLimits): UploadParts | undefined {
  return request.isMultipart() ? request.parts({ limits }) : undefined;
}

/**
 * Lets a plugin's routes take multipart uploads. No limits here: each upload brings its intake's
 * (uploadParts); a file over them raises the error the intake turns into its file_too_large.
 */
export async function acceptUploads(app: FastifyInstance): Promise<void> {
  await app.register(multipart, { throwFileSizeLimit: true });
}

/** Aborts when the client goes away before its answer is sent: a long dry run stops reading rows. */
export function clientGone(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort(new Error('the client went away'));
  });
  return controller.signal;
}
