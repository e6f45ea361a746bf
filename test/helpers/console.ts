import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './test-app.js';

// Signing in to the web console and posting its forms as a browser does, for app.inject.

export const ORIGIN = 'http://localhost:80';

export function cookieOf(
  response: LightMyRequestResponse,
  name: string,
): { value: string; header: string } | undefined {
  const headers = [response.headers['set-cookie'] ?? []].flat();
  const header = headers.find((h) => h.startsWith(`${name}=`));
  return header ? { value: header.slice(name.length + 1).split(';')[0]!, header } : undefined;
}

export function hiddenCsrf(body: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(body);
  assert.ok(match, 'the page has a CSRF field');
  return match[1]!;
}

/** A multipart body as a browser sends it, for inject. */
export async function multipart(
  parts: Array<[string, string] | [string, string, string]>,
): Promise<{ body: Buffer; type: string }> {
  const data = new FormData();
  for (const [name, value, filename] of parts) {
    if (filename === undefined) data.append(name, value);
    else data.append(name, new Blob([value]), filename);
  }
  const encoded = new Response(data);
  return { body: Buffer.from(await encoded.arrayBuffer()), type: encoded.headers.get('content-type')! };
}

export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/**
 * Opens the sign-in page and posts its form with `key`, as a browser would (its form cookie, its
 * token, our origin); `cookie` adds cookies the browser already holds. Answers the page and the reply.
 */
export async function postSignIn(
  t: TestApp,
  key: string,
  options: { next?: string; cookie?: string } = {},
): Promise<{ page: LightMyRequestResponse; response: LightMyRequestResponse }> {
  const page = await t.app.inject({ method: 'GET', url: '/console/sign-in' });
  const formCookie = cookieOf(page, 'roster_sign_in')!;
  const fields: Record<string, string> = { _csrf: hiddenCsrf(page.body), api_key: key };
  if (options.next !== undefined) fields.next = options.next;
  const response = await t.app.inject({
    method: 'POST',
    url: '/console/sign-in',
    headers: {
      cookie: [options.cookie, `roster_sign_in=${formCookie.value}`].filter(Boolean).join('; '),
      origin: ORIGIN,
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: form(fields),
  });
  return { page, response };
}

/** Signs in through the form as a browser would; returns the session cookie and the page's CSRF token. */
export async function signIn(t: TestApp, key: string): Promise<{ cookie: string; csrf: string }> {
  const { response } = await postSignIn(t, key, { next: '/console/' });
  assert.equal(response.statusCode, 303, response.body);
  const session = cookieOf(response, 'roster_session');
  assert.ok(session, 'a session cookie is set');
  const cookie = `roster_session=${session.value}`;
  const home = await t.app.inject({ method: 'GET', url: '/console/', headers: { cookie } });
  const target =
    home.statusCode === 303
      ? await t.app.inject({ method: 'GET', url: home.headers.location!, headers: { cookie } })
      : home;
  return { cookie, csrf: hiddenCsrf(target.body) };
}
