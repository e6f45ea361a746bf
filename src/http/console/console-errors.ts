import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, toEnvelope } from '../../errors.js';
import { errorBox, page, sendPage } from './console-layout.js';
import { wantsJson } from './console-request.js';
import { securityHeaders } from './console-security.js';
import { html, type Html } from './html.js';

/**
 * A console form refused: the page to show instead (the form again, the problem by its field; not
 * built when the console's own script asked for JSON), and what that script reads next to the
 * envelope to do the same without a reload.
 */
export class FormRefusal extends AppError {
  constructor(
    refusal: AppError,
    readonly page: Html | undefined,
    readonly hints: Record<string, unknown>,
  ) {
    super(refusal.code, refusal.message, refusal.details, refusal.headers);
  }
}

/**
 * How console routes show errors, once error-handler.ts has classified and logged them and set the
 * status: a page for a browser, the envelope for the console's own fetch calls (with a refused
 * form's hints). Set on every console route (console-plugin.ts).
 */
export function renderConsoleError(request: FastifyRequest, reply: FastifyReply, error: AppError): void {
  securityHeaders(reply);
  const refusal = error instanceof FormRefusal ? error : undefined;
  if (wantsJson(request)) {
    void reply.send({ ...toEnvelope(error), ...refusal?.hints });
    return;
  }
  const document =
    refusal?.page ??
    page({
      title: error.statusCode === 404 ? 'Not found' : 'Something went wrong',
      session: request.consoleSession ?? undefined,
      body: html`${errorBox(error.message)}<p><a href="/console/">Back to the console</a></p>`,
    });
  void sendPage(reply, document, error.statusCode);
}
