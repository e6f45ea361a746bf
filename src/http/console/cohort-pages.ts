import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { FORMAT_FUNCTIONS } from '../../domain/ingest/format-chain.js';
import { formatCount } from '../../domain/ingest/progress-text.js';
import { ALLOWED_APP_OVERRIDES } from '../../domain/ingest/transformation-schema.js';
import { AppError } from '../../errors.js';
import * as callers from '../../services/callers/caller-service.js';
import { intakeCohortDryRun } from '../../services/cohorts/cohort-dry-run-intake.js';
import { cohortUploadLimits, intakeCohortUpload } from '../../services/cohorts/cohort-intake.js';
import * as service from '../../services/cohorts/cohort-service.js';
import type { AgentView } from '../../services/tenancy-service.js';
import type { ConsoleDeps } from './console-plugin.js';
import { clientGone } from '../upload-request.js';
import { consoleUploadParts } from './console-forms.js';
import {
  csrfField,
  dateTime,
  definitionList,
  deploymentBase,
  describedBy,
  errorBox,
  fieldError,
  page,
  pager,
  sendPage,
  statusBadge,
  type PageScope,
} from './console-layout.js';
import { checkFragment, reasonsTable } from './cohort-check-fragment.js';
import { progressFragment } from './cohort-progress-fragment.js';
import { FormRefusal } from './console-errors.js';
import { oneOf, sessionOf, wantsJson } from './console-request.js';
import {
  CallerQuery,
  CohortFileParams,
  CohortListQuery,
  CohortParams,
  DeploymentParams,
  TokenBody,
} from './console-schemas.js';
import { html, path, query, type Html } from './html.js';
import { deploymentOf, pageParams } from './workspace-pages.js';

const SORTS = ['created_at', 'name', 'status'] as const;
const FILE_TYPES: readonly service.CohortFileType[] = ['cohort', 'rejected_records', 'cohort_transformation'];
type Scope = { orgId: string; workspaceId: string; deploymentId: string };
/** What the mapper offers: each format function with its options as the catalogue describes them, and the overrides. */
const FORMATS_JSON = JSON.stringify(FORMAT_FUNCTIONS.map(({ name, summary, options }) => ({ name, summary, options })));
const OVERRIDES_JSON = JSON.stringify(ALLOWED_APP_OVERRIDES);

/** Which form field a refused upload is about, so its message shows next to that field. */
const FIELD_OF_CODE: Record<string, string> = {
  invalid_transformation: 'cohort_transformation_file',
  column_not_found: 'cohort_transformation_file',
  unknown_app_variable: 'cohort_transformation_file',
  unknown_app_override: 'cohort_transformation_file',
  required_variable_not_mapped: 'cohort_transformation_file',
  duplicate_header: 'cohort_file',
  empty_header: 'cohort_file',
  too_many_columns: 'cohort_file',
  no_data_rows: 'cohort_file',
  invalid_csv: 'cohort_file',
  file_too_large: 'cohort_file',
};

function fieldOf(error: AppError): string | undefined {
  const byCode = FIELD_OF_CODE[error.code];
  if (byCode) return byCode;
  const first = Array.isArray(error.details) ? (error.details[0] as { field?: unknown } | undefined)?.field : undefined;
  return typeof first === 'string' ? first.replace(/^\/body\//, '') : undefined;
}

function cohortUrl(scope: Scope, cohortId: string): string {
  return `${deploymentBase(scope)}${path`/cohorts/${cohortId}`}`;
}

/**
 * A completed cohort's rejected rows by code, and a warning when more than half the rows were rejected:
 * such a cohort completed, but its callers are mostly missing.
 */
function rejectionSummary(result: service.CohortResult): Html {
  const mostlyRejected = result.rejected_records * 2 > result.total_records;
  const warning = mostlyRejected
    ? html`<div class="warning" role="alert"><strong>${result.valid_records === 0 ? 'No row was imported.' : 'Most rows were rejected.'}</strong> ${formatCount(result.rejected_records)} of ${formatCount(result.total_records)} rows were rejected; lookups find only the ${formatCount(result.valid_records)} imported. Fix the file (the reasons are below) and upload it again.</div>`
    : html``;
  const byReason = result.rejections_by_reason ?? [];
  if (byReason.length === 0) return warning;
  return html`${warning}${reasonsTable(byReason)}`;
}

/** The live marker: lookups answer at least one phone from this cohort. */
function liveBadge(view: service.CohortView): Html {
  if (!view.is_live) return html``;
  return html` <span class="badge badge-live" title="Caller lookups answer ${formatCount(view.serving_phones)} phones from this cohort">live</span>`;
}

/** The live part of a cohort page: status, then counts, rejections by reason and the rejection file once completed. */
export function statusFragment(scope: Scope, view: service.CohortView): Html {
  const url = cohortUrl(scope, view.cohort_id);
  if (view.status === 'processing')
    return html`<p>${statusBadge(view.status)} Processing… this updates by itself.</p>
${progressFragment(view.progress, Date.now())}`;
  if (view.status === 'failed') {
    return html`<p>${statusBadge(view.status)}</p>${errorBox(view.error ? `${view.error.message} (${view.error.code})` : 'The cohort failed.')}`;
  }
  const result = view.result!;
  return html`<p>${statusBadge(view.status)}${liveBadge(view)}</p>
${definitionList([
  ['Rows in the file', formatCount(result.total_records)],
  ['Imported', formatCount(result.valid_records)],
  ['Rejected', formatCount(result.rejected_records)],
  ['Served by lookups', formatCount(view.serving_phones)],
])}
${rejectionSummary(result)}
${result.rejected_records > 0 ? html`<p><a class="button" href="${url}/files/rejected_records" download>Download the rejected rows (CSV)</a></p>` : html`<p>No row was rejected.</p>`}`;
}

function statusJson(scope: Scope, view: service.CohortView) {
  return {
    status: view.status,
    done: view.status !== 'processing',
    html: statusFragment(scope, view).text,
    cohort_url: cohortUrl(scope, view.cohort_id),
  };
}

function uploadForm(
  session: ReturnType<typeof sessionOf>,
  scope: Scope,
  agent: AgentView,
  maxBytes: number,
  problem?: { field?: string; message: string },
  name = '',
  checked?: Html,
): Html {
  const base = deploymentBase(scope);
  const at = (field: string) => (problem?.field === field ? problem.message : undefined);
  const general =
    problem && !['name', 'cohort_file', 'cohort_transformation_file'].includes(problem.field ?? '')
      ? problem.message
      : undefined;
  const invalid = (field: string) => (at(field) ? html` aria-invalid="true"` : '');
  return html`
<form class="card" id="cohort-upload" method="post" action="${base}/cohorts" enctype="multipart/form-data" data-upload data-variables="${JSON.stringify(agent.variables)}" data-suggest-url="${base}/cohorts/mapping-suggestion" data-formats="${FORMATS_JSON}" data-overrides="${OVERRIDES_JSON}">
  ${csrfField(session)}
  ${errorBox(general)}
  <label for="name">Cohort name</label>
  <input id="name" name="name" required maxlength="50" value="${name}"${describedBy('name', true)}${invalid('name')}>
  <p class="hint" id="name-hint">1–50 letters, digits, spaces, _ or -.</p>
  ${fieldError('name', at('name'))}
  <label for="cohort_file">CSV file</label>
  <input id="cohort_file" name="cohort_file" type="file" accept=".csv,text/csv" required data-max-bytes="${maxBytes}"${describedBy('cohort_file', true)}${invalid('cohort_file')}>
  <p class="hint" id="cohort_file-hint">A header row, then one row per caller. <a href="${base}/template.csv" download>Template</a></p>
  ${fieldError('cohort_file', at('cohort_file'))}
  <fieldset class="config-source" hidden>
    <legend>Transformation config</legend>
    <label class="inline"><input type="radio" name="config_source" value="file" checked> Upload a JSON file</label>
    <label class="inline"><input type="radio" name="config_source" value="builder"> Build the mapping here from the CSV's header</label>
  </fieldset>
  <div id="config-file">
    <label for="cohort_transformation_file">Transformation config (JSON)</label>
    <input id="cohort_transformation_file" name="cohort_transformation_file" type="file" accept=".json,application/json"${describedBy('cohort_transformation_file', true)}${invalid('cohort_transformation_file')}>
    <p class="hint" id="cohort_transformation_file-hint">Maps CSV columns to the agent's variables. <a href="${base}/transformation.json" download>A config for the template</a></p>
  </div>
  <div id="mapping-builder" hidden></div>
  ${fieldError('cohort_transformation_file', at('cohort_transformation_file'))}
  <div class="actions">
    <button type="submit" class="secondary" formaction="${base}/cohorts/check" formnovalidate data-check>Check file</button>
    <button type="submit">Upload</button>
  </div>
  <p class="hint">Check file runs every check an upload makes and shows what would be imported and rejected, uploading nothing.</p>
  <div class="upload-progress" hidden>
    <label for="upload-progress">Uploading</label>
    <progress id="upload-progress" max="100" value="0"></progress> <span class="progress-text" aria-live="polite"></span>
  </div>
</form>
<section id="upload-result" class="card" aria-live="polite"${checked ? '' : html` hidden`}>${checked ? html`<h2>Check</h2><div id="check-result">${checked}</div>` : ''}</section>`;
}

/** Cohort pages of one deployment: list, upload with live status, detail, files, delete; caller lookup. */
export async function cohortPages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const deps = options.deps.cohorts;
  const base = '/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id';
  const deploymentRoute = { schema: { params: DeploymentParams } };
  const cohortRoute = { schema: { params: CohortParams } };

  const listRoute = { schema: { params: DeploymentParams, querystring: CohortListQuery } };
  app.get(`${base}/cohorts`, listRoute, async (request, reply) => {
    const session = sessionOf(request);
    const { scope, deployment } = await deploymentOf(request, options.deps);
    const q = request.query;
    const sortBy = oneOf(SORTS, q.sort_by, 'created_at');
    const sortOrder = q.sort_order === 'asc' ? 'asc' : 'desc';
    const search = (q.search ?? '').slice(0, 100);
    const { offset, limit } = pageParams(q);
    const list = await service.listCohorts(deps, scope, {
      offset,
      limit,
      sortBy,
      sortOrder,
      search: search || undefined,
    });
    const listUrl = `${deploymentBase(scope)}/cohorts`;
    const option = (value: string, label: string, current: string) =>
      html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
    const body = html`
${q.deleted ? html`<div class="notice" role="status">Cohort <code>${q.deleted}</code> was deleted.</div>` : ''}
<form class="card filters" method="get" action="${listUrl}" role="search">
  <div><label for="search">Name contains</label><input id="search" name="search" type="search" value="${search}"></div>
  <div><label for="sort_by">Sort by</label><select id="sort_by" name="sort_by">${option('created_at', 'Uploaded', sortBy)}${option('name', 'Name', sortBy)}${option('status', 'Status', sortBy)}</select></div>
  <div><label for="sort_order">Order</label><select id="sort_order" name="sort_order">${option('desc', 'Descending', sortOrder)}${option('asc', 'Ascending', sortOrder)}</select></div>
  <div><button type="submit">Apply</button></div>
</form>
<div class="table-wrap"><table>
  <caption>Cohorts of ${deployment.name}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Imported / rows</th><th scope="col">Rejected</th><th scope="col">Uploaded</th><th scope="col">By</th></tr></thead>
  <tbody>${list.items.map(
    (
      c,
    ) => html`<tr><th scope="row"><a href="${cohortUrl(scope, c.cohort_id)}">${c.name}</a></th><td>${statusBadge(c.status)}${liveBadge(c)}</td>
      <td>${c.result ? `${formatCount(c.result.valid_records)} / ${formatCount(c.result.total_records)}` : ''}</td><td>${c.result ? formatCount(c.result.rejected_records) : ''}</td><td>${dateTime(c.created_at)}</td><td>${c.created_by}</td></tr>`,
  )}</tbody>
</table></div>
${list.total === 0 ? html`<p>No cohort matches. <a href="${listUrl}/new">Upload one</a>.</p>` : ''}
${pager(listUrl, { search: search || undefined, sort_by: sortBy, sort_order: sortOrder }, offset, limit, list.total)}`;
    return sendPage(reply, page({ title: 'Cohorts', session, scope, body }));
  });

  app.get(`${base}/cohorts/new`, deploymentRoute, async (request, reply) => {
    const session = sessionOf(request);
    const { scope, agent } = await deploymentOf(request, options.deps);
    return sendPage(
      reply,
      page({
        title: 'Upload a cohort',
        session,
        scope,
        scripts: ['mapping.js'],
        body: uploadForm(session, scope, agent, deps.config.cohorts.maxUploadBytes),
      }),
    );
  });

  // The body is multipart, streamed part by part into the intake: no body schema, the intake checks it.
  app.post(`${base}/cohorts`, deploymentRoute, async (request, reply) => {
    const session = sessionOf(request);
    const { scope, agent } = await deploymentOf(request, options.deps);
    const parts = consoleUploadParts(request, cohortUploadLimits(deps.config, 'browser'));
    const upload = await intakeCohortUpload(deps, scope, session.principal, { parts, source: 'browser' }, request.log);
    if (upload.accepted) {
      if (wantsJson(request)) return reply.send(statusJson(scope, upload.cohort));
      return reply.redirect(cohortUrl(scope, upload.cohort.cohort_id), 303);
    }
    const error = upload.refusal;
    if (error.code === 'csrf_rejected' || error.code === 'not_found') throw error;
    const field = fieldOf(error);
    const form = uploadForm(
      session,
      scope,
      agent,
      deps.config.cohorts.maxUploadBytes,
      { field, message: error.message },
      upload.name ?? '',
    );
    const refused = page({ title: 'Upload a cohort', session, scope, scripts: ['mapping.js'], body: form });
    throw new FormRefusal(error, refused, { field: field ?? null });
  });

  // "Check file": the upload form posted to a dry run; the page (or, from the script, the fragment) shows the answer.
  app.post(`${base}/cohorts/check`, { ...deploymentRoute, config: { audit: false } }, async (request, reply) => {
    const session = sessionOf(request);
    const { scope, agent } = await deploymentOf(request, options.deps);
    const parts = consoleUploadParts(request, cohortUploadLimits(deps.config, 'browser'));
    const signal = clientGone(reply.raw);
    const checked = await intakeCohortDryRun(deps, scope, { parts, source: 'browser', signal });
    const max = deps.config.cohorts.maxUploadBytes;
    if (checked.checked) {
      const fragment = checkFragment(checked.result);
      if (wantsJson(request)) return reply.send({ checked: true, html: fragment.text });
      const body = uploadForm(session, scope, agent, max, undefined, '', fragment);
      return sendPage(reply, page({ title: 'Upload a cohort', session, scope, scripts: ['mapping.js'], body }));
    }
    const error = checked.refusal;
    if (error.code === 'csrf_rejected' || error.code === 'not_found') throw error;
    const field = fieldOf(error);
    const form = uploadForm(session, scope, agent, max, { field, message: error.message });
    const refused = page({ title: 'Upload a cohort', session, scope, scripts: ['mapping.js'], body: form });
    throw new FormRefusal(error, refused, { field: field ?? null });
  });

  app.get(`${base}/cohorts/:cohort_id`, cohortRoute, async (request, reply) => {
    const session = sessionOf(request);
    const { scope } = await deploymentOf(request, options.deps);
    const view = await service.viewCohort(deps, scope, request.params.cohort_id);
    const url = cohortUrl(scope, view.cohort_id);
    const body = html`
<section class="card" aria-labelledby="status-heading">
  <h2 id="status-heading">Status</h2>
  <div id="cohort-status" aria-live="polite"${view.status === 'processing' ? html` data-status-url="${url}/status"` : html` data-done="${view.status}"`}>${statusFragment(scope, view)}</div>
</section>
<section class="card" aria-labelledby="about">
  <h2 id="about">About</h2>
  ${definitionList([
    ['Id', html`<code>${view.cohort_id}</code>`],
    ['Source', view.source_type === 'file_upload' ? 'file upload' : 'downloaded from a URL'],
    ['Uploaded', dateTime(view.created_at)],
    ['By', view.created_by],
    ['Updated', dateTime(view.updated_at)],
  ])}
  <h3>Files</h3>
  <ul class="links">
    <li><a href="${url}/files/cohort" download>The CSV as uploaded</a></li>
    <li><a href="${url}/files/cohort_transformation" download>The transformation config</a></li>
    ${view.status === 'completed' ? html`<li><a href="${url}/files/rejected_records" download>The rejected rows</a></li>` : ''}
  </ul>
</section>
<p class="actions"><a class="button danger" href="${url}/delete">Delete this cohort…</a></p>`;
    return sendPage(reply, page({ title: `Cohort ${view.name}`, session, scope, body }));
  });

  app.get(`${base}/cohorts/:cohort_id/status`, cohortRoute, async (request, reply) => {
    const { scope } = await deploymentOf(request, options.deps);
    const view = await service.viewCohort(deps, scope, request.params.cohort_id);
    return reply.header('cache-control', 'no-store').send(statusJson(scope, view));
  });

  const fileRoute = { schema: { params: CohortFileParams } };
  app.get(`${base}/cohorts/:cohort_id/files/:file_type`, fileRoute, async (request, reply) => {
    const { scope } = await deploymentOf(request, options.deps);
    const { cohort_id: cohortId, file_type: asked } = request.params;
    const fileType = FILE_TYPES.find((type) => type === asked);
    if (fileType === undefined) throw new AppError('not_found', `No file type '${asked}'.`);
    const file = await service.openCohortFile(deps, scope, cohortId, fileType);
    return reply
      .header('content-type', file.contentType)
      .header('content-disposition', `attachment; filename="${file.filename}"`)
      .header('cache-control', 'private, no-store')
      .send(file.stream);
  });

  app.get(`${base}/cohorts/:cohort_id/delete`, cohortRoute, async (request, reply) => {
    const session = sessionOf(request);
    const { scope } = await deploymentOf(request, options.deps);
    const view = service.cohortView(await service.getCohort(deps, scope, request.params.cohort_id));
    const url = cohortUrl(scope, view.cohort_id);
    const body = html`<form class="card narrow" method="post" action="${url}/delete">
  ${csrfField(session)}
  <p>Delete cohort <strong>${view.name}</strong> (<code>${view.cohort_id}</code>) and its contacts? Lookups fall back to the next-latest cohort at once. This cannot be undone.</p>
  <p class="actions"><button class="danger" type="submit">Delete</button> <a class="button secondary" href="${url}">Cancel</a></p>
</form>`;
    return sendPage(reply, page({ title: 'Delete cohort?', session, scope, body }));
  });

  app.post(
    `${base}/cohorts/:cohort_id/delete`,
    { schema: { ...cohortRoute.schema, body: TokenBody } },
    async (request, reply) => {
      const { scope } = await deploymentOf(request, options.deps);
      const cohortId = request.params.cohort_id;
      await service.deleteCohort(deps, scope, cohortId);
      return reply.redirect(`${deploymentBase(scope)}/cohorts${query({ deleted: cohortId })}`, 303);
    },
  );

  app.get(
    `${base}/callers`,
    { schema: { params: DeploymentParams, querystring: CallerQuery } },
    async (request, reply) => {
      const session = sessionOf(request);
      const { scope } = await deploymentOf(request, options.deps);
      const q = request.query;
      const phone = (q.phone ?? '').trim().slice(0, 64);
      const country = (q.country ?? '').trim();
      let result: Html = html``;
      let problem: string | undefined;
      if (phone) {
        try {
          if (country && !/^[A-Za-z]{2}$/.test(country))
            throw new AppError('validation_failed', 'Country must be two letters, like IN or US.');
          result = lookupResult(scope, await callers.lookupCaller(deps, scope, phone, country || undefined));
        } catch (error) {
          if (!(error instanceof AppError) || error.statusCode !== 422) throw error;
          problem = error.message;
        }
      }
      const body = html`
<form class="card filters" method="get" action="${deploymentBase(scope)}/callers" role="search">
  <div><label for="phone">Phone number</label><input id="phone" name="phone" type="tel" inputmode="tel" required value="${phone}"${describedBy('phone', true)}${problem ? html` aria-invalid="true"` : ''}>
  <p class="hint" id="phone-hint">Any format: +919876543210, 09876543210 or 9876543210.</p>${fieldError('phone', problem)}</div>
  <div><label for="country">Country (optional)</label><input id="country" name="country" maxlength="2" size="3" value="${country}" autocomplete="off"></div>
  <div><button type="submit">Look up</button></div>
</form>
${result}`;
      return sendPage(reply, page({ title: 'Caller lookup', session, scope, body }), problem ? 422 : 200);
    },
  );
}

function lookupResult(scope: Scope & PageScope, caller: callers.CallerView): Html {
  if (!caller.found)
    return html`<section class="card" aria-live="polite"><h2>Not found</h2><p>No completed cohort of this deployment holds <code>${caller.phone_number}</code>.</p></section>`;
  const table = (caption: string, values: Record<string, string> | undefined) =>
    html`<div class="table-wrap"><table><caption>${caption}</caption><thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
<tbody>${Object.entries(values ?? {}).map(([k, v]) => html`<tr><th scope="row"><code>${k}</code></th><td>${v}</td></tr>`)}</tbody></table></div>`;
  return html`<section class="card" aria-live="polite" aria-labelledby="found">
  <h2 id="found">Found: <code>${caller.phone_number}</code></h2>
  ${definitionList([
    [
      'Answered by cohort',
      html`<a href="${cohortUrl(scope, caller.cohort_id!)}">${caller.cohort_name}</a> <code>${caller.cohort_id}</code>`,
    ],
    ['User identifier', caller.user_identifier ?? ''],
    ['Uploaded', dateTime(caller.uploaded_at)],
  ])}
  ${table('Variables', caller.app_variables)}
  ${Object.keys(caller.app_overrides ?? {}).length > 0 ? table('Overrides', caller.app_overrides) : ''}
</section>`;
}
