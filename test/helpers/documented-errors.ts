import type { FastifyInstance } from 'fastify';

/** The stable code of an error answer, in either vendor's envelope; undefined for anything else. */
function errorCodeOf(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return undefined;
  try {
    const body = JSON.parse(payload) as { error?: { code?: unknown }; status?: unknown; data?: { code?: unknown } };
    const code = body.status === false ? body.data?.code : body.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Watches every error answer of an app for a code its route does not document (config.errorCodes,
 * which the OpenAPI document lists), so each suite that drives a route through its failures also
 * checks that route's documentation. Returns the check: it throws, listing each route and code.
 * The console's HTML pages, the public routes and the not-found handler have no such list.
 */
export function watchDocumentedErrors(app: FastifyInstance): () => void {
  const undocumented = new Set<string>();
  app.addHook('onSend', async (request, reply, payload) => {
    const route = request.routeOptions;
    if (reply.statusCode < 400 || route.url === undefined || route.config?.renderError || route.config?.public)
      return payload;
    const code = errorCodeOf(payload);
    if (code !== undefined && !(route.config?.errorCodes as readonly string[] | undefined)?.includes(code))
      undocumented.add(`${request.method} ${route.url} answered ${code}`);
    return payload;
  });
  return () => {
    if (undocumented.size > 0)
      throw new Error(
        `error codes sent but not documented on their route (add them to the route's errorCodes):\n  ${[...undocumented].join('\n  ')}`,
      );
  };
}
