import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../../services/key-service.js';
import type { ConsoleDeps } from './console-plugin.js';
import { formText } from './console-forms.js';
import { SignInBody, SignInQuery, TokenBody } from './console-schemas.js';
import { describedBy, fieldError, page, sendPage } from './console-layout.js';
import {
  checkCsrfToken,
  cookieOptions,
  CSRF_FIELD,
  headerToken,
  safeNext,
  SESSION_COOKIE,
  SIGN_IN_COOKIE,
} from './console-security.js';
import { html } from './html.js';
import { createSession, csrfTokenFor, deleteSession, findSession, newToken, SESSION_TTL_MS } from './session-store.js';

const SIGN_IN_FORM_SECONDS = 60 * 60;

function signInPage(request: FastifyRequest, reply: FastifyReply, next: string, problem?: string): FastifyReply {
  // The sign-in form has its own CSRF token, tied to a short-lived cookie, so no other site can sign a browser in.
  const formToken = request.cookies[SIGN_IN_COOKIE] ?? newToken();
  void reply.setCookie(SIGN_IN_COOKIE, formToken, cookieOptions(request, SIGN_IN_FORM_SECONDS));
  const body = html`
<form class="card narrow" method="post" action="/console/sign-in" novalidate>
  <input type="hidden" name="${CSRF_FIELD}" value="${csrfTokenFor(formToken)}">
  <input type="hidden" name="next" value="${next}">
  <p>Sign in with an org API key (<code>rk_…</code>) or the master key. The key is checked once and never kept in the page or the browser; a session cookie stands in for it until you sign out.</p>
  <label for="api_key">API key</label>
  <input id="api_key" name="api_key" type="password" autocomplete="current-password" required spellcheck="false"${describedBy('api_key')}${problem ? html` aria-invalid="true"` : ''}>
  ${fieldError('api_key', problem)}
  <button type="submit">Sign in</button>
</form>`;
  return sendPage(reply, page({ title: 'Sign in', body }), problem ? 401 : 200);
}

/** Sign in with an API key (a session cookie replaces it) and sign out (the session row is deleted). */
export async function signInPages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const db = deps.cohorts.db;
  const open = { consoleOpen: true };

  app.get('/sign-in', { schema: { querystring: SignInQuery }, config: open }, async (request, reply) =>
    signInPage(request, reply, safeNext(request.query.next)),
  );

  app.post('/sign-in', { schema: { body: SignInBody }, config: open }, async (request, reply) => {
    const body = request.body ?? {};
    const formToken = request.cookies[SIGN_IN_COOKIE];
    checkCsrfToken(formToken ? formText(body._csrf) : undefined, formToken ? csrfTokenFor(formToken) : '\0');
    const next = safeNext(formText(body.next));
    const secret = formText(body.api_key).trim();
    const principal = secret ? await authenticate(db, secret, deps.masterKey) : undefined;
    if (!principal)
      return signInPage(
        request,
        reply,
        next,
        secret ? 'That key is not valid, or it was revoked.' : 'Enter an API key.',
      );
    // A fresh token at every sign-in; a session this browser already had ends (no fixation, no leftovers).
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) await deleteSession(db, previous);
    const token = await createSession(db, principal, secret, new Date());
    void reply.clearCookie(SIGN_IN_COOKIE, { path: '/console' });
    void reply.setCookie(SESSION_COOKIE, token, cookieOptions(request, SESSION_TTL_MS / 1000));
    return reply.redirect(next, 303);
  });

  // Open so that a browser whose session already ended can still sign out; a live session's form must carry its token.
  app.post('/sign-out', { schema: { body: TokenBody }, config: open }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    const session = token ? await findSession(db, token, deps.masterKey, new Date()) : undefined;
    if (token && session) {
      checkCsrfToken(headerToken(request) ?? formText(request.body?._csrf), session.csrfToken);
      await deleteSession(db, token);
    }
    void reply.clearCookie(SESSION_COOKIE, { path: '/console' });
    return reply.redirect('/console/sign-in', 303);
  });
}
