import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_DELAY_MINUTES, DEFAULT_RETRY, DEFAULT_WINDOW, MAX_DELAY_MINUTES, MAX_RETRY, MIN_DELAY_MINUTES, MIN_RETRY } from '../../domain/scheduling/calling-window.js';
import { ATTEMPT_OUTCOMES } from '../../domain/scheduling/retry-policy.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError, toEnvelope } from '../../errors.js';
import { reachableBatch } from '../../services/batches/batch-access.js';
import { parseBatchFields, type BatchFieldName } from '../../services/batches/batch-fields.js';
import { batchDetails, changeBatchStatus, listBatches } from '../../services/batches/batch-service.js';
import { createBatchFromFile, type InvalidRow } from '../../services/batches/batch-upload-service.js';
import { saveUpload } from '../../services/batches/upload-file.js';
import * as tenancy from '../../services/tenancy-service.js';
import { requireWorkspace } from '../plugins/auth.js';
import { toAppError } from '../error-handler.js';
import type { ConsoleDeps } from './console-plugin.js';
import { readFormParts } from './console-forms.js';
import { csrfField, dateTime, definitionList, describedBy, errorBox, fieldError, page, pager, sendPage, statusBadge, workspaceBase } from './console-layout.js';
import { sessionOf, wantsJson } from './console-request.js';
import type { ConsoleSession } from './session-store.js';
import { html, path, query, type Html } from './html.js';
import { pageParams } from './workspace-pages.js';
import { dncPages } from './dnc-pages.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const CALL_STATUSES = ['pending', 'in_progress', ...ATTEMPT_OUTCOMES];
const CALL_SORTS = ['createdAt', 'phoneNumber', 'callStatus', 'attempts'] as const;
const CALL_SORT_LABELS: Record<(typeof CALL_SORTS)[number], string> = { createdAt: 'Added', phoneNumber: 'Phone number', callStatus: 'Status', attempts: 'Attempts' };
type WorkspaceScope = { orgId: string; workspaceId: string };

/** Every IANA zone the runtime knows, UTC first (the default). */
const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')];

function workspaceOf(request: FastifyRequest): WorkspaceScope & { principal: Principal } {
  const { org_id: orgId, workspace_id: workspaceId } = request.params as { org_id: string; workspace_id: string };
  return { orgId, workspaceId, principal: requireWorkspace(request, orgId, workspaceId) };
}

/** The same principal seeing only this workspace, so lists hold this workspace's batches alone. */
function withinWorkspace(principal: Principal, scope: WorkspaceScope): Principal {
  return principal.kind === 'key'
    ? { ...principal, workspaces: [scope.workspaceId] }
    : { kind: 'key', keyId: 'console', orgId: scope.orgId, userId: '', userEmail: 'admin', workspaces: [scope.workspaceId] };
}

function batchUrl(scope: WorkspaceScope, batchId: string): string {
  return `${workspaceBase(scope)}${path`/batches/${batchId}`}`;
}

interface UploadValues {
  fields: Partial<Record<BatchFieldName, string>>;
  callingNumbers: string[];
  days: string[];
  start: string;
  end: string;
}

const EMPTY_VALUES: UploadValues = {
  fields: { retry: String(DEFAULT_RETRY), delay: String(DEFAULT_DELAY_MINUTES), batchType: 'outbound' },
  callingNumbers: [],
  days: DEFAULT_WINDOW.allowedDays.map(String),
  start: DEFAULT_WINDOW.start,
  end: DEFAULT_WINDOW.end,
};

type Problems = { general?: Html; byField: Record<string, string> };

async function uploadForm(deps: ConsoleDeps, session: ConsoleSession, scope: WorkspaceScope, values: UploadValues, problems: Problems = { byField: {} }): Promise<Html> {
  const db = deps.cohorts.db;
  const numbers = await tenancy.listPhoneNumbers(db, scope.orgId, scope.workspaceId, { offset: 0, limit: 100 });
  const users = session.principal.kind === 'master' ? (await tenancy.listUsers(db, scope.orgId, { offset: 0, limit: 100 })).items : [];
  const at = (field: string) => problems.byField[field];
  const invalid = (field: string) => (at(field) ? html` aria-invalid="true"` : '');
  const v = values.fields;
  const option = (value: string, label: string, current: string | undefined) => html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  return html`
<form class="card" id="batch-upload" method="post" action="${workspaceBase(scope)}/batches" enctype="multipart/form-data" data-upload>
  ${csrfField(session)}
  ${problems.general ?? ''}
  <label for="file">Contacts file</label>
  <input id="file" name="file" type="file" required data-max-bytes="${deps.batches.config.batches.maxBytes}" accept=".csv,.xlsx,.xls,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-excel"${describedBy('file', true)}${invalid('file')}>
  <p class="hint" id="file-hint">.csv, .xlsx or .xls (first sheet): a <code>phoneNumber</code> column and the agent's required variables.</p>
  ${fieldError('file', at('file'))}
  <label for="batchName">Batch name</label>
  <input id="batchName" name="batchName" required maxlength="200" value="${v.batchName ?? ''}"${describedBy('batchName')}${invalid('batchName')}>
  ${fieldError('batchName', at('batchName'))}
  ${
    session.principal.kind === 'master'
      ? html`<label for="userId">On behalf of user</label>
  <select id="userId" name="userId"${describedBy('userId')}${invalid('userId')}>${users.map((u) => option(u.user_id, `${u.name ?? u.email} <${u.email}>`, v.userId))}</select>`
      : html`<input type="hidden" name="userId" value="${session.principal.userId}"><p>On behalf of <strong>${session.principal.userEmail}</strong>.</p>`
  }
  ${fieldError('userId', at('userId'))}
  <fieldset${describedBy('callingNumbers')}>
    <legend>Calling numbers</legend>
    ${numbers.items.length === 0 ? html`<p>This workspace has no calling numbers yet.</p>` : ''}
    ${numbers.items.map(
      (n) => html`<label class="inline"><input type="checkbox" name="callingNumbers" value="${n._id}"${values.callingNumbers.includes(n._id) || numbers.items.length === 1 ? ' checked' : ''}> <span>${n.phone_number} ${n.label ? `(${n.label})` : ''} · agent <code>${n.agent_id}</code></span></label>`,
    )}
  </fieldset>
  ${fieldError('callingNumbers', at('callingNumbers'))}
  <label for="batchType">Batch type</label>
  <select id="batchType" name="batchType"${describedBy('batchType')}>${option('outbound', 'Outbound', v.batchType)}${option('mixed', 'Mixed', v.batchType)}</select>
  ${fieldError('batchType', at('batchType'))}
  <fieldset>
    <legend>Rows</legend>
    <label class="inline"><input type="checkbox" name="enableDNC" value="true"${v.enableDNC === 'true' ? ' checked' : ''}> Skip numbers on the do-not-call list</label>
    <label class="inline"><input type="checkbox" name="type" value="true"${v.type === 'true' ? ' checked' : ''}> Import the valid rows even if some are invalid (otherwise any invalid row refuses the file)</label>
  </fieldset>
  <fieldset>
    <legend>Calling window</legend>
    <label for="timezone">Time zone</label>
    <select id="timezone" name="timezone" data-default-zone="${v.timezone ? '' : 'browser'}"${describedBy('timezone')}${invalid('timezone')}>${TIME_ZONES.map((zone) => option(zone, zone, v.timezone ?? DEFAULT_WINDOW.timezone))}</select>
    ${fieldError('timezone', at('timezone'))}
    <div class="row">
      <div><label for="callingStart">From</label><input id="callingStart" name="callingStart" type="time" required value="${values.start}"${describedBy('callingHour')}${invalid('callingHour')}></div>
      <div><label for="callingEnd">Until</label><input id="callingEnd" name="callingEnd" type="time" required value="${values.end}"${describedBy('callingHour')}${invalid('callingHour')}></div>
    </div>
    <p class="hint">A start after the end is an overnight window.</p>
    ${fieldError('callingHour', at('callingHour'))}
    <fieldset class="days"${describedBy('allowedDays')}>
      <legend>Days</legend>
      ${DAYS.map((day, index) => html`<label class="inline"><input type="checkbox" name="allowedDays" value="${index}"${values.days.includes(String(index)) ? ' checked' : ''}> ${day}</label>`)}
    </fieldset>
    ${fieldError('allowedDays', at('allowedDays'))}
  </fieldset>
  <div class="row">
    <div><label for="retry">Attempts per contact</label><input id="retry" name="retry" type="number" min="${MIN_RETRY}" max="${MAX_RETRY}" value="${v.retry ?? ''}"${describedBy('retry')}${invalid('retry')}>${fieldError('retry', at('retry'))}</div>
    <div><label for="delay">Minutes between attempts</label><input id="delay" name="delay" type="number" min="${MIN_DELAY_MINUTES}" max="${MAX_DELAY_MINUTES}" value="${v.delay ?? ''}"${describedBy('delay')}${invalid('delay')}>${fieldError('delay', at('delay'))}</div>
  </div>
  <button type="submit">Upload batch</button>
  <div class="upload-progress" hidden>
    <label for="upload-progress">Uploading</label>
    <progress id="upload-progress" max="100" value="0"></progress> <span class="progress-text" aria-live="polite"></span>
  </div>
</form>`;
}

function invalidRowsTable(rows: InvalidRow[], count: number): Html {
  return html`<div class="error" role="alert"><p>${count} row${count === 1 ? ' is' : 's are'} invalid; nothing was imported. Fix them, or tick “Import the valid rows”.</p>
<div class="table-wrap"><table><caption>Invalid rows${rows.length < count ? ` (first ${rows.length})` : ''}</caption>
<thead><tr><th scope="col">Row</th><th scope="col">Column</th><th scope="col">Why</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${r.line}</td><td>${r.column ?? ''}</td><td>${r.reason}</td></tr>`)}</tbody></table></div></div>`;
}

function problemsOf(error: AppError): Problems {
  const byField: Record<string, string> = {};
  if (error.code === 'invalid_rows') {
    const details = error.details as { rows: InvalidRow[]; invalid_count: number };
    return { general: invalidRowsTable(details.rows, details.invalid_count), byField };
  }
  if (Array.isArray(error.details)) {
    for (const detail of error.details as Array<{ field?: string; message?: string }>) {
      if (detail.field && detail.message) byField[detail.field] = byField[detail.field] ? `${byField[detail.field]}; ${detail.message}` : detail.message;
    }
  }
  const fileCodes = ['unsupported_file_type', 'empty_file', 'missing_columns', 'no_valid_rows', 'invalid_spreadsheet', 'spreadsheet_too_large', 'file_too_large'];
  if (fileCodes.includes(error.code)) byField.file = error.message;
  if (error.code === 'calling_numbers_not_found' || error.code === 'agent_language_missing') byField.callingNumbers = error.message;
  if (error.code === 'user_not_found') byField.userId = error.message;
  return Object.keys(byField).length > 0 ? { byField } : { general: errorBox(error.message), byField };
}

/** Previous / next by page number, as the vendor's batch details page. */
function numberPager(base: string, params: Record<string, string | undefined>, pageNumber: number, pages: number, total: number): Html {
  const link = (n: number) => `${base}${query({ ...params, page: n })}`;
  return html`<nav class="pager" aria-label="Pages"><span>Page ${Math.min(pageNumber, Math.max(pages, 1))} of ${Math.max(pages, 1)} · ${total} calls</span>
    ${pageNumber > 1 ? html`<a rel="prev" href="${link(pageNumber - 1)}">Previous</a>` : ''} ${pageNumber < pages ? html`<a rel="next" href="${link(pageNumber + 1)}">Next</a>` : ''}</nav>`;
}

async function detailsPage(request: FastifyRequest, reply: FastifyReply, deps: ConsoleDeps, notice?: Html): Promise<FastifyReply> {
  const session = sessionOf(request);
  const scope = workspaceOf(request);
  const batchId = (request.params as { batch_id: string }).batch_id;
  const row = await reachableBatch(deps.batches, scope.principal, batchId);
  if (row.workspace_id !== scope.workspaceId || row.org_id !== scope.orgId) throw new AppError('not_found', `Batch '${batchId}' not found.`);
  const q = request.query as { page?: string; status?: string; sort_by?: string; sort_order?: string; search?: string };
  const pageNumber = Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1);
  const status = CALL_STATUSES.includes(q.status ?? '') ? q.status : undefined;
  const sortBy = (CALL_SORTS as readonly string[]).includes(q.sort_by ?? '') ? (q.sort_by as (typeof CALL_SORTS)[number]) : 'createdAt';
  const sortOrder = q.sort_order === 'desc' ? 'desc' : 'asc';
  const search = (q.search ?? '').slice(0, 100);
  const limit = 20;
  const details = await batchDetails(deps.batches, scope.principal, batchId, {
    page: pageNumber,
    limit,
    sortBy,
    sortOrder,
    ...(status ? { filter: JSON.stringify({ callStatus: status }) } : {}),
    ...(search ? { search } : {}),
  });
  const url = batchUrl(scope, batchId);
  const data = details.data;
  const option = (value: string, label: string, current: string | undefined) => html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  const action = (name: 'pause' | 'resume', label: string, allowed: boolean) =>
    allowed ? html`<form method="post" action="${url}/${name}">${csrfField(session)}<button type="submit">${label}</button></form>` : '';
  const cancellable = row.status === 'running' || row.status === 'paused';
  const hidden = new Set(['_id', 'phoneNumber', 'callStatus', 'attempts', 'phoneLogs', 'createdAt']);
  const body = html`${notice ?? ''}
<section class="card" aria-labelledby="summary">
  <h2 id="summary">Summary</h2>
  ${definitionList([
    ['Status', statusBadge(row.status)],
    ['Calls', Number(row.total_calls)],
    ['Skipped', `${row.skipped_invalid} invalid, ${row.skipped_duplicate} repeated, ${row.skipped_dnc} do-not-call`],
    ['Window', `${row.calling_start}–${row.calling_end} ${row.timezone}, ${(JSON.parse(row.allowed_days) as number[]).map((d) => DAYS[d]!.slice(0, 3)).join(' ')}`],
    ['Attempts', `${row.retry}, ${row.delay_minutes} min apart`],
    ['Created', dateTime(row.created_at)],
  ])}
  <div class="actions">${action('pause', 'Pause', row.status === 'running')}${action('resume', 'Resume', row.status === 'paused')}${cancellable ? html`<a class="button danger" href="${url}/cancel">Cancel batch…</a>` : ''}</div>
</section>
<form class="card filters" method="get" action="${url}" role="search">
  <div><label for="search">Phone or value contains</label><input id="search" name="search" type="search" value="${search}"></div>
  <div><label for="status">Call status</label><select id="status" name="status">${option('', 'Any', status ?? '')}${CALL_STATUSES.map((s) => option(s, s, status))}</select></div>
  <div><label for="sort_by">Sort by</label><select id="sort_by" name="sort_by">${CALL_SORTS.map((s) => option(s, CALL_SORT_LABELS[s], sortBy))}</select></div>
  <div><label for="sort_order">Order</label><select id="sort_order" name="sort_order">${option('asc', 'Ascending', sortOrder)}${option('desc', 'Descending', sortOrder)}</select></div>
  <div><button type="submit">Apply</button></div>
</form>
<div class="table-wrap"><table>
  <caption>Calls (${data.total})</caption>
  <thead><tr><th scope="col">Phone</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Values</th><th scope="col">Attempt log</th></tr></thead>
  <tbody>${data.data.map((call) => {
    const values = Object.entries(call).filter(([k]) => !hidden.has(k)) as Array<[string, string]>;
    return html`<tr><th scope="row">+${call.phoneNumber}</th><td>${statusBadge(call.callStatus)}</td><td>${call.attempts}</td>
      <td>${values.map(([k, value]) => html`<code>${k}</code>: ${value}<br>`)}</td>
      <td>${call.phoneLogs.length === 0 ? 'none yet' : html`<ol class="attempts">${call.phoneLogs.map((log) => html`<li>${dateTime(log.createdAt)} ${statusBadge(log.callStatus)}${log.callDuration !== null ? ` ${log.callDuration} s` : ''}</li>`)}</ol>`}</td></tr>`;
  })}</tbody>
</table></div>
${numberPager(url, { search: search || undefined, status, sort_by: sortBy, sort_order: sortOrder }, pageNumber, data.totalPages, data.total)}`;
  return sendPage(reply, page({ title: `Batch ${row.batch_name}`, session, scope, body }));
}

/** Batches of one workspace: list, upload (CSV or Excel, every vendor field), details with attempts, pause/resume/cancel. */
export async function batchPages(app: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const { deps } = options;
  const base = '/orgs/:org_id/workspaces/:workspace_id';

  app.get(`${base}/batches`, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const { offset, limit } = pageParams(request);
    const list = await listBatches(deps.batches, withinWorkspace(scope.principal, scope), scope.orgId, { offset, limit });
    const listUrl = `${workspaceBase(scope)}/batches`;
    const body = html`<p class="actions"><a class="button" href="${listUrl}/new">Upload a batch</a></p>
<div class="table-wrap"><table>
  <caption>Batches of workspace ${scope.workspaceId}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Calls</th><th scope="col">Window</th><th scope="col">Created</th></tr></thead>
  <tbody>${list.items.map(
    (b) => html`<tr><th scope="row"><a href="${batchUrl(scope, b._id)}">${b.batchName}</a></th><td>${statusBadge(b.batchStatus)}</td><td>${b.totalCalls}</td>
      <td>${b.callingHour.start}–${b.callingHour.end} ${b.timezone}</td><td>${dateTime(b.createdAt)}</td></tr>`,
  )}</tbody>
</table></div>
${list.total === 0 ? html`<p>No batches yet.</p>` : ''}
${pager(listUrl, {}, offset, limit, list.total)}`;
    return sendPage(reply, page({ title: 'Batches', session, scope, body }));
  });

  app.get(`${base}/batches/new`, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    return sendPage(reply, page({ title: 'Upload a batch', session, scope, body: await uploadForm(deps, session, scope, EMPTY_VALUES) }));
  });

  app.post(`${base}/batches`, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const values: UploadValues = { fields: {}, callingNumbers: [], days: [], start: '', end: '' };
    let upload: Awaited<ReturnType<typeof saveUpload>> | undefined;
    let filename = '';
    try {
      await readFormParts(request, deps.batches.config.batches.maxBytes, {
        field(name, value) {
          if (name === 'callingNumbers') values.callingNumbers.push(value);
          else if (name === 'allowedDays') values.days.push(value);
          else if (name === 'callingStart') values.start = value;
          else if (name === 'callingEnd') values.end = value;
          else if (['userId', 'batchName', 'batchType', 'enableDNC', 'type', 'retry', 'delay', 'timezone'].includes(name)) values.fields[name as BatchFieldName] = value;
        },
        async file(part) {
          if (part.fieldname !== 'file' || upload || part.filename === '') {
            part.file.resume();
            return;
          }
          filename = part.filename;
          upload = await saveUpload(deps.dataDir, part.file, part.filename);
        },
      });
      const raw: Partial<Record<BatchFieldName, string>> = {
        ...values.fields,
        enableDNC: values.fields.enableDNC === 'true' ? 'true' : 'false',
        type: values.fields.type === 'true' ? 'true' : 'false',
        callingNumbers: values.callingNumbers.length > 0 ? JSON.stringify(values.callingNumbers) : '',
        callingHour: JSON.stringify({ start: values.start, end: values.end }),
        allowedDays: JSON.stringify(values.days.map(Number)),
      };
      if (values.days.length === 0) throw new AppError('invalid_batch_field', 'Pick at least one day.', [{ field: 'allowedDays', message: 'Pick at least one day.' }]);
      const fields = parseBatchFields(raw);
      if (!upload) throw new AppError('invalid_batch_field', 'Choose the contacts file.', [{ field: 'file', message: 'Choose a .csv, .xlsx or .xls file.' }]);
      if (upload.bytes === 0) throw new AppError('empty_file', `'${filename}' is empty.`);
      const result = await createBatchFromFile(deps.batches, session.principal, fields, { path: upload.path, filename });
      const target = `${batchUrl(scope, result.batch._id)}${query({ created: result.batch.totalCalls, invalid: result.skipped.invalid, duplicate: result.skipped.duplicate, dnc: result.skipped.dnc })}`;
      if (wantsJson(request)) return reply.send({ redirect: target });
      return reply.redirect(target, 303);
    } catch (thrown) {
      const error = (thrown as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE'
        ? new AppError('file_too_large', `The file is larger than ${deps.batches.config.batches.maxBytes} bytes.`)
        : toAppError(thrown as Error);
      if (error.statusCode >= 500 || error.code === 'csrf_rejected' || error.code === 'not_found') throw error;
      const problems = problemsOf(error);
      if (wantsJson(request)) {
        return reply.code(error.statusCode).send({ ...toEnvelope(error), fields: problems.byField, html: problems.general?.text ?? null });
      }
      const form = await uploadForm(deps, session, scope, { ...values, start: values.start || DEFAULT_WINDOW.start, end: values.end || DEFAULT_WINDOW.end }, problems);
      return sendPage(reply, page({ title: 'Upload a batch', session, scope, body: form }), error.statusCode);
    } finally {
      await upload?.remove();
    }
  });

  app.get(`${base}/batches/:batch_id`, async (request, reply) => {
    const q = request.query as { created?: string; invalid?: string; duplicate?: string; dnc?: string; now?: string };
    const count = (value: string | undefined) => String(Number.parseInt(value ?? '0', 10) || 0);
    const notice = q.created
      ? html`<div class="notice" role="status">Batch created with ${count(q.created)} calls (skipped: ${count(q.invalid)} invalid, ${count(q.duplicate)} repeated, ${count(q.dnc)} do-not-call).</div>`
      : ['running', 'paused', 'cancelled'].includes(q.now ?? '')
        ? html`<div class="notice" role="status">The batch is now ${q.now}.</div>`
        : undefined;
    return detailsPage(request, reply, deps, notice);
  });

  app.get(`${base}/batches/:batch_id/cancel`, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const batchId = (request.params as { batch_id: string }).batch_id;
    const row = await reachableBatch(deps.batches, scope.principal, batchId);
    if (row.workspace_id !== scope.workspaceId) throw new AppError('not_found', `Batch '${batchId}' not found.`);
    const url = batchUrl(scope, batchId);
    const body = html`<form class="card narrow" method="post" action="${url}/cancel">
  ${csrfField(session)}
  <p>Cancel batch <strong>${row.batch_name}</strong>? Its calls not yet made are cancelled and no dialer gets them again. This cannot be undone.</p>
  <p class="actions"><button class="danger" type="submit">Cancel the batch</button> <a class="button secondary" href="${url}">Keep it</a></p>
</form>`;
    return sendPage(reply, page({ title: 'Cancel batch?', session, scope, body }));
  });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(`${base}/batches/:batch_id/${action}`, async (request, reply) => {
      const scope = workspaceOf(request);
      const batchId = (request.params as { batch_id: string }).batch_id;
      const row = await reachableBatch(deps.batches, scope.principal, batchId);
      if (row.workspace_id !== scope.workspaceId) throw new AppError('not_found', `Batch '${batchId}' not found.`);
      try {
        const summary = await changeBatchStatus(deps.batches, scope.principal, batchId, action);
        return reply.redirect(`${batchUrl(scope, batchId)}${query({ now: summary.batchStatus })}`, 303);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'invalid_state') throw error;
        return detailsPage(request, reply, deps, errorBox(error.message));
      }
    });
  }

  await app.register(dncPages, { deps });
}
