import type { FastifyRequest } from 'fastify';

export interface PageEnvelope<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
  next_page_uri: string | null;
  prev_page_uri: string | null;
}

/** Wraps one page of items with links to its neighbours, keeping the request's other query parameters. */
export function pageEnvelope<T>(
  request: FastifyRequest,
  items: T[],
  total: number,
  offset: number,
  limit: number,
): PageEnvelope<T> {
  const link = (newOffset: number): string => {
    const url = new URL(request.url, 'http://roster.invalid');
    url.searchParams.set('offset', String(newOffset));
    url.searchParams.set('limit', String(limit));
    return `${url.pathname}${url.search}`;
  };
  return {
    items,
    total,
    limit,
    offset,
    next_page_uri: offset + limit < total ? link(offset + limit) : null,
    prev_page_uri: offset > 0 ? link(Math.max(0, offset - limit)) : null,
  };
}
