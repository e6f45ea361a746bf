import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import {
  DEFAULT_DELAY_SECONDS,
  DEFAULT_RETRY,
  DEFAULT_WINDOW,
  MAX_DELAY_SECONDS,
  MAX_RETRY,
  MIN_DELAY_SECONDS,
  MIN_RETRY,
} from '../../domain/scheduling/calling-window.js';
import type { AppError } from '../../errors.js';
import { batchUploadLimits, intakeBatchUpload, type BatchFormValues } from '../../services/batches/batch-intake.js';
import type { InvalidRow } from '../../services/batches/batch-upload-service.js';
import * as tenancy from '../../services/tenancy-service.js';
import type { ConsoleDeps } from './console-plugin.js';
import { FormRefusal } from './console-errors.js';
import { consoleUploadParts } from './console-forms.js';
import {
  batchUrl,
  csrfField,
  describedBy,
  errorBox,
  fieldError,
  page,
  sendPage,
  workspaceBase,
} from './console-layout.js';
import { sessionOf, wantsJson } from './console-request.js';
import { WorkspaceParams } from './console-schemas.js';
import type { ConsoleSession } from './session-store.js';
import { html, query, type Html } from './html.js';
import { workspaceOf } from './workspace-pages.js';

export const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Every IANA zone the runtime knows, UTC first (the default). */
const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')];

type WorkspaceScope = { orgId: string; workspaceId: string };

const EMPTY_VALUES: BatchFormValues = {
  fields: { retry: String(DEFAULT_RETRY), delay: String(DEFAULT_DELAY_SECONDS), batchType: 'outbound' },
  callingNumbers: [],
  days: DEFAULT_WINDOW.allowedDays.map(String),
  start: DEFAULT_WINDOW.start,
  end: DEFAULT_WINDOW.end,
};

type Problems = { general?: Html; byField: Record<string, string> };

async function uploadForm(
  deps: ConsoleDeps,
  session: ConsoleSession,
  scope: WorkspaceScope,
  values: BatchFormValues,
  problems: Problems = { byField: {} },
): Promise<Html> {
  const db = deps.cohorts.db;
  const numbers = await tenancy.listPhoneNumbers(db, scope.orgId, scope.workspaceId, { offset: 0, limit: 100 });
  const users =
    session.principal.kind === 'master'
      ? (await tenancy.listUsers(db, scope.orgId, { offset: 0, limit: 100 })).items
      : [];
  const at = (field: string) => problems.byField[field];
  const invalid = (field: string) => (at(field) ? html` aria-invalid="true"` : '');
  const v = values.fields;
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
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
      (n) =>
        html`<label class="inline"><input type="checkbox" name="callingNumbers" value="${n._id}"${values.callingNumbers.includes(n._id) || numbers.items.length === 1 ? ' checked' : ''}> <span>${n.phone_number} ${n.label ? `(${n.label})` : ''} · agent <code>${n.agent_id}</code></span></label>`,
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
    <div><label for="retry">Retries after the first call</label><input id="retry" name="retry" type="number" min="${MIN_RETRY}" max="${MAX_RETRY}" value="${v.retry ?? ''}"${describedBy('retry')}${invalid('retry')}>${fieldError('retry', at('retry'))}</div>
    <div><label for="delay">Seconds between attempts</label><input id="delay" name="delay" type="number" min="${MIN_DELAY_SECONDS}" max="${MAX_DELAY_SECONDS}" value="${v.delay ?? ''}"${describedBy('delay')}${invalid('delay')}>${fieldError('delay', at('delay'))}</div>
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
      if (detail.field && detail.message)
        byField[detail.field] = byField[detail.field] ? `${byField[detail.field]}; ${detail.message}` : detail.message;
    }
  }
  const fileCodes = [
    'unsupported_file_type',
    'empty_file',
    'missing_columns',
    'no_valid_rows',
    'invalid_spreadsheet',
    'spreadsheet_too_large',
    'file_too_large',
  ];
  if (fileCodes.includes(error.code)) byField.file = error.message;
  if (error.code === 'calling_numbers_not_found' || error.code === 'agent_language_missing')
    byField.callingNumbers = error.message;
  if (error.code === 'user_not_found') byField.userId = error.message;
  return Object.keys(byField).length > 0 ? { byField } : { general: errorBox(error.message), byField };
}
/** The batch upload form of a workspace, and its post: the file and every vendor field, through the batch intake. */
export async function batchUploadPages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const base = '/orgs/:org_id/workspaces/:workspace_id';
  const workspaceRoute = { schema: { params: WorkspaceParams } };

  app.get(`${base}/batches/new`, workspaceRoute, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    return sendPage(
      reply,
      page({ title: 'Upload a batch', session, scope, body: await uploadForm(deps, session, scope, EMPTY_VALUES) }),
    );
  });

  // The body is multipart, streamed part by part into the intake: no body schema, the intake checks it.
  app.post(`${base}/batches`, workspaceRoute, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const parts = consoleUploadParts(request, batchUploadLimits(deps.batches.config, 'browser'));
    const upload = await intakeBatchUpload(deps.batches, session.principal, {
      parts,
      source: 'browser',
      dataDir: deps.dataDir,
    });
    if (upload.accepted) {
      const { batch, skipped } = upload.batch;
      const target = `${batchUrl(scope, batch._id)}${query({ created: batch.totalCalls, invalid: skipped.invalid, duplicate: skipped.duplicate, dnc: skipped.dnc })}`;
      if (wantsJson(request)) return reply.send({ redirect: target });
      return reply.redirect(target, 303);
    }
    const error = upload.refusal;
    if (error.code === 'csrf_rejected' || error.code === 'not_found') throw error;
    const problems = problemsOf(error);
    const hints = { fields: problems.byField, html: problems.general?.text ?? null };
    if (wantsJson(request)) throw new FormRefusal(error, undefined, hints);
    const { values } = upload;
    const form = await uploadForm(
      deps,
      session,
      scope,
      { ...values, start: values.start || DEFAULT_WINDOW.start, end: values.end || DEFAULT_WINDOW.end },
      problems,
    );
    throw new FormRefusal(error, page({ title: 'Upload a batch', session, scope, body: form }), hints);
  });
}
