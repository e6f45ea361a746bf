import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { isSupportedPhoneCountry } from '../../domain/ingest/phone.js';
import { AppError } from '../../errors.js';
import {
  type ErasureView,
  listErasures,
  MAX_ERASURE_NUMBERS,
  requestErasure,
} from '../../services/erasure/erasure-service.js';
import * as tenancy from '../../services/tenancy-service.js';
import type { ConsoleDeps } from './console-plugin.js';
import { FormRefusal } from './console-errors.js';
import { formText } from './console-forms.js';
import {
  csrfField,
  dateTime,
  definitionList,
  describedBy,
  fieldError,
  page,
  type PageScope,
  pager,
  sendPage,
  statusBadge,
  workspaceBase,
} from './console-layout.js';
import { sessionOf } from './console-request.js';
import { ErasureBody, ErasureListQuery, WorkspaceParams } from './console-schemas.js';
import type { ConsoleSession } from './session-store.js';
import { html, query, type Html } from './html.js';
import { pageParams, workspaceOf } from './workspace-pages.js';

type WorkspaceScope = { orgId: string; workspaceId: string };

/** What the form held, and what was wrong with it, to show it again. */
interface ErasureForm {
  phoneNumbers: string;
  country: string;
  problems: { phone_numbers?: Html; country?: string };
}

/** One entry the service could not read as a phone number (details.invalid of invalid_phone_number). */
interface InvalidEntry {
  index: number;
  phone_number: string;
  reason: string;
}

function erasuresUrl(scope: WorkspaceScope): string {
  return `${workspaceBase(scope)}/erasure`;
}

/** The entries of the textarea: one per line or separated by commas (a number may hold spaces). */
function erasureEntries(text: string): string[] {
  return text
    .split(/[\r\n,;]+/)
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function invalidEntriesOf(error: AppError): InvalidEntry[] {
  const invalid: unknown =
    typeof error.details === 'object' && error.details !== null ? Reflect.get(error.details, 'invalid') : undefined;
  if (!Array.isArray(invalid)) return [];
  return invalid.filter(
    (entry): entry is InvalidEntry =>
      typeof entry === 'object' &&
      entry !== null &&
      typeof Reflect.get(entry, 'index') === 'number' &&
      typeof Reflect.get(entry, 'phone_number') === 'string' &&
      typeof Reflect.get(entry, 'reason') === 'string',
  );
}

/** The refusal of numbers that cannot be read, naming each (the service lists at most 20). */
function invalidNumbersProblem(entries: InvalidEntry[], message: string): Html {
  if (entries.length === 0) return html`${message}`;
  return html`Nothing was erased: ${entries.length === 1 ? 'this entry is' : 'these entries are'} not phone numbers${entries.length >= 20 ? ' (the first 20 shown)' : ''}. Correct or remove ${entries.length === 1 ? 'it' : 'them'} and send the form again.
<ul>${entries.map((e) => html`<li>entry ${e.index + 1}, <code>${e.phone_number}</code>: ${e.reason}</li>`)}</ul>`;
}

function erasureForm(session: ConsoleSession, scope: WorkspaceScope, form: ErasureForm): Html {
  const { problems } = form;
  const numbersError = html`<div class="field-error" id="phone_numbers-error" data-error-for="phone_numbers"${problems.phone_numbers ? '' : html` hidden`}>${problems.phone_numbers ?? ''}</div>`;
  return html`<div class="warning" role="note"><strong>Erasure cannot be undone.</strong> It removes the numbers from every cohort of every deployment of workspace ${scope.workspaceId}: lookups stop finding them as soon as the request is taken, and their calls in the workspace's batches go with the calls' logs, as do webhook deliveries that name them. Then the stored cohort files and rejected-rows files are written again without their rows. <strong>Do-not-call entries are kept</strong>, so a number that asked not to be called still is not; remove it from the <a href="${workspaceBase(scope)}/dnc">do-not-call list</a> separately if it must go too. The numbers themselves are not kept: the request shows only how many there were.</div>
<form class="card" method="post" action="${erasuresUrl(scope)}">
  ${csrfField(session)}
  <label for="phone_numbers">Phone numbers to erase</label>
  <textarea id="phone_numbers" name="phone_numbers" rows="8" required${describedBy('phone_numbers', true)}${problems.phone_numbers ? html` aria-invalid="true"` : ''}>${form.phoneNumbers}</textarea>
  <p class="hint" id="phone_numbers-hint">One per line, or separated by commas; at most ${MAX_ERASURE_NUMBERS}. In + form (<code>+919876543210</code>), or national with a country below.</p>
  ${numbersError}
  <label for="country">Country for national numbers (optional)</label>
  <input id="country" name="country" maxlength="2" size="3" autocomplete="off" value="${form.country}"${describedBy('country')}${problems.country ? html` aria-invalid="true"` : ''}>
  ${fieldError('country', problems.country)}
  <p class="actions"><button class="danger" type="submit">Erase these numbers</button> <a class="button secondary" href="${erasuresUrl(scope)}">Cancel</a></p>
</form>`;
}

function formPage(session: ConsoleSession, scope: PageScope, form: ErasureForm): Html {
  return page({ title: 'Erase phone numbers', session, scope, body: erasureForm(session, scope, form) });
}

/** One request: its status (processing until every stored file is rewritten), who asked, and what it removed. */
function erasureCard(erasure: ErasureView, url: string): Html {
  const id = `erasure-${erasure.erasure_id}`;
  const { removed } = erasure;
  const progress =
    erasure.status === 'processing'
      ? html`<p class="hint">Processing: the numbers are already gone from lookups, calls and webhook deliveries; the stored files of ${erasure.cohorts_pending} ${erasure.cohorts_pending === 1 ? 'cohort' : 'cohorts'} are still to be written again (a cohort still being imported is waited for). <a href="${url}">Reload</a> to see how far it got.</p>`
      : '';
  return html`<section class="card" aria-labelledby="${id}" data-erasure="${erasure.erasure_id}" data-status="${erasure.status}">
  <h2 id="${id}">Erasure <code>${erasure.erasure_id}</code> ${statusBadge(erasure.status)}</h2>
  ${progress}
  ${erasure.error ? html`<p class="error">${erasure.error.message}</p>` : ''}
  ${definitionList([
    ['Numbers', String(erasure.phone_numbers)],
    ['Requested by', erasure.requested_by === 'admin' ? 'master key' : erasure.requested_by],
    ['Requested', dateTime(erasure.created_at)],
    ['Completed', erasure.completed_at ? dateTime(erasure.completed_at) : 'not yet'],
    ['Contacts removed', String(removed.contacts)],
    ['Calls removed', String(removed.calls)],
    ['Call logs removed', String(removed.call_logs)],
    ['Webhook deliveries removed', String(removed.webhook_deliveries)],
    ['Cohort file rows removed', String(removed.cohort_file_rows)],
    ['Rejected-rows file rows removed', String(removed.rejected_file_rows)],
    ['Files written again', String(erasure.files_rewritten)],
    ['Unreadable files deleted', String(erasure.files_deleted)],
    ['Cohorts still to rewrite', String(erasure.cohorts_pending)],
  ])}
</section>`;
}

/** A workspace's right-to-erasure requests: the form that takes one, and the list with each one's progress. */
export async function erasurePages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  // The cohorts' deps hold all an erasure needs (database, files, queue).
  const deps = options.deps.cohorts;
  const base = '/orgs/:org_id/workspaces/:workspace_id/erasure';

  app.get(base, { schema: { params: WorkspaceParams, querystring: ErasureListQuery } }, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const { offset, limit } = pageParams(request.query);
    const erasures = await listErasures(deps, scope.orgId, scope.workspaceId, { offset, limit });
    const url = erasuresUrl(scope);
    // Reloading shows the same page of the list, without the notice.
    const reload = `${url}${query({ offset: offset || undefined, limit: request.query.limit })}`;
    // Only an erasure id is echoed in the notice, so a made-up link cannot put words in the page.
    const requested = /^er_[0-9a-f]{32}$/.test(request.query.requested ?? '') ? request.query.requested : undefined;
    const notice = requested
      ? html`<div class="notice" role="status">Erasure <code>${requested}</code> was taken: lookups no longer find its numbers, and its calls and webhook deliveries are gone. Its status below shows the stored files being written again.</div>`
      : '';
    const body = html`${notice}
<p>Right-to-erasure requests of workspace ${scope.workspaceId}, newest first. Each one removes phone numbers from every cohort, batch, call log and stored file of the workspace; it cannot be undone, and do-not-call entries are kept. The API takes them too (<code>POST /v1/orgs/${scope.orgId}/workspaces/${scope.workspaceId}/erasure</code>).</p>
<p class="actions"><a class="button danger" href="${url}/new">Erase phone numbers…</a> <a class="button secondary" href="${reload}">Reload</a></p>
${erasures.items.map((erasure) => erasureCard(erasure, reload))}
${erasures.total === 0 ? html`<p>No erasure requests yet.</p>` : ''}
${pager(url, {}, offset, limit, erasures.total)}`;
    return sendPage(reply, page({ title: 'Erasure requests', session, scope, body }));
  });

  app.get(`${base}/new`, { schema: { params: WorkspaceParams } }, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    await tenancy.getWorkspace(deps.db, scope.orgId, scope.workspaceId);
    return sendPage(reply, formPage(session, scope, { phoneNumbers: '', country: '', problems: {} }));
  });

  app.post(base, { schema: { params: WorkspaceParams, body: ErasureBody } }, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const form: ErasureForm = {
      phoneNumbers: formText(request.body?.phone_numbers),
      country: formText(request.body?.country).trim().toUpperCase(),
      problems: {},
    };
    // The form comes back with what was typed and the problem by its field; nothing was erased.
    const refuse = (error: AppError, problems: ErasureForm['problems']): never => {
      throw new FormRefusal(error, formPage(session, scope, { ...form, problems }), {});
    };
    const entries = erasureEntries(form.phoneNumbers);
    if (entries.length === 0) {
      const message = 'Enter at least one phone number.';
      refuse(new AppError('validation_failed', message), { phone_numbers: html`${message}` });
    }
    if (entries.length > MAX_ERASURE_NUMBERS) {
      const message = `At most ${MAX_ERASURE_NUMBERS} numbers per request (this list has ${entries.length}); send the rest in another request.`;
      refuse(new AppError('validation_failed', message), { phone_numbers: html`${message}` });
    }
    if (form.country && !(/^[A-Z]{2}$/.test(form.country) && isSupportedPhoneCountry(form.country))) {
      const message = 'The country must be a two-letter country code, like IN or US.';
      refuse(new AppError('validation_failed', message), { country: message });
    }
    let erasure: ErasureView;
    try {
      erasure = await requestErasure(deps, scope.orgId, scope.workspaceId, scope.principal, {
        phone_numbers: entries,
        country: form.country || undefined,
      });
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'invalid_phone_number') throw error;
      return refuse(error, { phone_numbers: invalidNumbersProblem(invalidEntriesOf(error), error.message) });
    }
    // The audit event names the request, as a create's event names what it made.
    request.auditResourceId = erasure.erasure_id;
    return reply.redirect(`${erasuresUrl(scope)}${query({ requested: erasure.erasure_id })}`, 303);
  });
}
