import type { IncomingMessage, ServerResponse } from 'node:http';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { UploadLimits, UploadParts } from '../services/upload-parts.js';
import { hashedParts } from './plugins/idempotency.js';

/**
 * A request's multipart parts, read under an intake's limits (they override the plugin's), for the
 * intake to consume; undefined when the request is not multipart, which the intake refuses in its words.
 */
export function uploadParts(request: FastifyRequest, limits: UploadLimits): UploadParts | undefined {
  // With an Idempotency-Key, the form's hash is taken as the intake reads it.
  return request.isMultipart() ? hashedParts(request, request.parts({ limits })) : undefined;
}

/**
 * Lets a plugin's routes take multipart uploads. No limits here: each upload brings its intake's
 * (uploadParts); a file over them raises the error the intake turns into its file_too_large.
 */
export async function acceptUploads(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(multipart, { throwFileSizeLimit: true });
  // The largest body any upload may send, with room for its other parts.
  const drainLimit = Math.max(config.cohorts.maxUploadBytes, config.batches.maxBytes) + 1024 * 1024;
  app.addHook('onSend', async (request) => {
    drainUnreadBody(request.raw, drainLimit);
  });
}

/**
 * Reads and drops what is left of a request body its answer did not wait for: an upload refused
 * part-way through its file (a full disk, a file over the limit, a bad config read before the CSV).
 * The multipart reader has stopped reading, and a body left unread either stalls the connection or
 * gets it closed while the client is still sending, which the client sees as EPIPE or a reset
 * instead of the answer. Drained, the client reads the refusal and can send its next request on the
 * same connection. At most `limit` more bytes are read (an upload's own limit): past that the
 * connection is closed, so a client that never stops sending cannot keep it.
 */
function drainUnreadBody(request: IncomingMessage, limit: number): void {
  if (request.complete || request.destroyed) return;
  request.unpipe();
  let left = limit;
  request.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) request.socket.destroy();
  });
  request.resume();
}

/** Aborts when the client goes away before its answer is sent: a long dry run stops reading rows. */
export function clientGone(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort(new Error('the client went away'));
  });
  return controller.signal;
}
