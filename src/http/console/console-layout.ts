import type { FastifyReply } from 'fastify';
import type { ConsoleSession } from './session-store.js';
import { CSRF_FIELD } from './console-security.js';
import { html, path, query, type Html, type HtmlValue } from './html.js';

/** Where a page sits: the deployment or workspace it is about, for the navigation bar. */
export interface PageScope {
  orgId: string;
  workspaceId: string;
  deploymentId?: string;
}

export interface PageOptions {
  title: string;
  session?: ConsoleSession;
  scope?: PageScope;
  /** Extra ES modules the page needs, from /console/assets. */
  scripts?: string[];
  body: Html;
}

/** The console URL of a deployment; ids are URL-encoded. */
export function deploymentBase(scope: { orgId: string; workspaceId: string; deploymentId: string }): string {
  return path`/console/orgs/${scope.orgId}/workspaces/${scope.workspaceId}/deployments/${scope.deploymentId}`;
}

/** The console URL of a workspace; ids are URL-encoded. */
export function workspaceBase(scope: { orgId: string; workspaceId: string }): string {
  return path`/console/orgs/${scope.orgId}/workspaces/${scope.workspaceId}`;
}

/** The console URL of a batch's page; ids are URL-encoded. */
export function batchUrl(scope: { orgId: string; workspaceId: string }, batchId: string): string {
  return `${workspaceBase(scope)}${path`/batches/${batchId}`}`;
}

function navigation(scope: PageScope | undefined): Html {
  if (!scope) return html``;
  const ws = workspaceBase(scope);
  const links: Array<[string, string]> = [];
  if (scope.deploymentId) {
    const dep = deploymentBase({ ...scope, deploymentId: scope.deploymentId });
    links.push(
      [dep, 'Deployment'],
      [`${dep}/cohorts`, 'Cohorts'],
      [`${dep}/cohorts/new`, 'Upload cohort'],
      [`${dep}/callers`, 'Caller lookup'],
    );
  }
  links.push([`${ws}/batches`, 'Batches'], [`${ws}/batches/new`, 'Upload batch'], [`${ws}/dnc`, 'Do not call']);
  return html`<nav class="tabs" aria-label="Sections"><ul>${links.map(([href, label]) => html`<li><a href="${href}">${label}</a></li>`)}</ul></nav>`;
}

/** The whole HTML document around a page body. */
export function page(options: PageOptions): Html {
  const { session, scope } = options;
  const where = scope ? [scope.orgId, scope.workspaceId, scope.deploymentId].filter(Boolean).join(' / ') : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Roster console</title>
<link rel="stylesheet" href="/console/assets/console.css">
${session ? html`<meta name="csrf-token" content="${session.csrfToken}">` : ''}
<script type="module" src="/console/assets/console.js"></script>
${(options.scripts ?? []).map((name) => html`<script type="module" src="/console/assets/${name}"></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="bar">
  <a class="brand" href="/console/">Roster</a>
  ${where ? html`<span class="where">${where} · <a href="/console/">change</a></span>` : ''}
  ${
    session
      ? html`<form class="sign-out" method="post" action="/console/sign-out">${csrfField(session)}<span class="who">${session.keyLabel}</span> <button type="submit">Sign out</button></form>`
      : ''
  }
</header>
${navigation(scope)}
<main id="main" tabindex="-1">
<h1>${options.title}</h1>
${options.body}
</main>
</body>
</html>`;
}

/** The hidden synchronizer-token field every console form starts with. */
export function csrfField(session: ConsoleSession): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${session.csrfToken}">`;
}

/** Sends a page as HTML that no cache keeps. */
export function sendPage(reply: FastifyReply, document: Html, status = 200): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(document.text);
}

/** An alert box for a problem the person must act on (role=alert so screen readers announce it). */
export function errorBox(message: string | undefined): Html {
  return message ? html`<div class="error" role="alert">${message}</div>` : html``;
}

/** A field's own error, tied to it with aria-describedby on the control. */
export function fieldError(id: string, message: string | undefined): Html {
  return html`<p class="field-error" id="${id}-error" data-error-for="${id}"${message ? '' : html` hidden`}>${message ?? ''}</p>`;
}

/** aria-describedby tying a control to its error slot (and hint). */
export function describedBy(id: string, hint?: boolean): Html {
  return html` aria-describedby="${id}-error${hint ? html` ${id}-hint` : ''}"`;
}

/** Previous / next links for an offset-paged list, keeping the other query parameters. */
export function pager(
  base: string,
  params: Record<string, string | number | undefined>,
  offset: number,
  limit: number,
  total: number,
): Html {
  const prev = offset > 0 ? `${base}${query({ ...params, offset: Math.max(0, offset - limit), limit })}` : undefined;
  const next = offset + limit < total ? `${base}${query({ ...params, offset: offset + limit, limit })}` : undefined;
  const shown = total === 0 ? 'none' : `${offset + 1}–${Math.min(total, offset + limit)} of ${total}`;
  return html`<nav class="pager" aria-label="Pages"><span>${shown}</span>
    ${prev ? html`<a rel="prev" href="${prev}">Previous</a>` : ''} ${next ? html`<a rel="next" href="${next}">Next</a>` : ''}</nav>`;
}

/** A cohort, batch or call status as a coloured badge (its text says it; colour only adds). */
export function statusBadge(status: string): Html {
  return html`<span class="badge badge-${status.replace(/[^a-z_-]/g, '')}">${status}</span>`;
}

/** A timestamp as a <time> element, shown in UTC to the second. */
export function dateTime(iso: string | null | undefined): Html {
  if (!iso) return html``;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

/** Label/value facts as a description list. */
export function definitionList(entries: Array<[string, HtmlValue]>): Html {
  return html`<dl class="facts">${entries.map(([term, value]) => html`<div><dt>${term}</dt><dd>${value}</dd></div>`)}</dl>`;
}
