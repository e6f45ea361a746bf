import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { safeCsvLine } from '../../domain/ingest/csv-cells.js';
import { AppError } from '../../errors.js';
import { retentionPolicyOf, setRetentionPolicy } from '../../services/cohorts/cohort-retention.js';
import type { DeploymentRow } from '../../storage/repositories/deployments-repository.js';
import { requireMaster } from '../plugins/auth.js';
import type { ConsoleDeps } from './console-plugin.js';
import { FormRefusal } from './console-errors.js';
import { formText } from './console-forms.js';
import {
  csrfField,
  dateTime,
  definitionList,
  deploymentBase,
  describedBy,
  fieldError,
  page,
  sendPage,
} from './console-layout.js';
import { sessionOf } from './console-request.js';
import { DeploymentParams, DeploymentQuery, RetentionBody } from './console-schemas.js';
import type { ConsoleSession } from './session-store.js';
import { html, type Html } from './html.js';
import { deploymentOf } from './workspace-pages.js';

/** The most days a retention policy keeps cohorts, as the API's PATCH deployment takes it. */
const MAX_RETENTION_DAYS = 3650;

/** What the retention form held and what was wrong with it, to show it again. */
interface RetentionForm {
  days: string;
  strict: boolean;
  problem?: string;
}

/**
 * The deployment's cohort retention, as GET deployment shows it, to everyone who reaches it; the
 * form that changes it only to a master-key session (PATCH deployment is master-only).
 */
function retentionSection(
  session: ConsoleSession,
  base: string,
  deployment: DeploymentRow,
  intervalMinutes: number,
  form?: RetentionForm,
): Html {
  const policy = retentionPolicyOf(deployment);
  const days = policy.cohort_retention_days;
  const shown: RetentionForm = form ?? {
    days: days === null ? '' : String(days),
    strict: policy.cohort_retention_strict,
  };
  const change =
    session.principal.kind === 'master'
      ? html`<form method="post" action="${base}/retention">
  ${csrfField(session)}
  <label for="cohort_retention_days">Keep cohorts for (days)</label>
  <input id="cohort_retention_days" name="cohort_retention_days" type="number" min="1" max="${MAX_RETENTION_DAYS}" step="1" inputmode="numeric" value="${shown.days}"${describedBy('cohort_retention_days', true)}${shown.problem ? html` aria-invalid="true"` : ''}>
  <p class="hint" id="cohort_retention_days-hint">1–${MAX_RETENTION_DAYS}; leave it empty to keep cohorts until they are deleted. A saved policy runs within about 10 seconds.</p>
  ${fieldError('cohort_retention_days', shown.problem)}
  <label class="inline"><input type="checkbox" name="cohort_retention_strict" value="true"${shown.strict ? html` checked` : ''}> Strict: also delete old cohorts that are still the newest holder of a number (lookups stop finding those numbers)</label>
  <button type="submit">Save retention</button>
</form>`
      : html`<p class="hint">Only the master key changes this policy (<code>PATCH</code> the deployment with <code>cohort_retention_days</code> and <code>cohort_retention_strict</code>).</p>`;
  return html`<section class="card" aria-labelledby="retention">
  <h2 id="retention">Cohort retention</h2>
  ${definitionList([
    ['Keep cohorts', days === null ? 'kept until deleted' : `${days} ${days === 1 ? 'day' : 'days'}`],
    ['Strict', policy.cohort_retention_strict ? 'yes' : 'no'],
    ['Last run', policy.cohort_retention_last_run_at ? dateTime(policy.cohort_retention_last_run_at) : 'never'],
    [
      'Next run',
      policy.cohort_retention_next_run_at ? dateTime(policy.cohort_retention_next_run_at) : 'none (no policy)',
    ],
  ])}
  <p class="hint">A run deletes the cohorts created more than that many days before it, completed or failed, with their contacts and stored files. Unless the policy is strict, it keeps a completed cohort that is still the newest one holding some number, so lookups answer as before. Cohorts still processing are left alone. Runs come every ${intervalMinutes} ${intervalMinutes === 1 ? 'minute' : 'minutes'}.</p>
  ${change}
</section>`;
}

/** A deployment's page (its agent's variables, templates and cohort retention), and the retention form's target. */
export async function deploymentPages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const intervalMinutes = Math.round(deps.cohorts.config.retention.intervalMs / 60_000);
  const deploymentPath = '/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id';
  const deploymentRoute = { schema: { params: DeploymentParams } };

  async function deploymentPage(
    request: FastifyRequest & { params: DeploymentParams },
    notice: Html,
    retentionForm?: RetentionForm,
  ): Promise<Html> {
    const session = sessionOf(request);
    const { scope, deployment, agent } = await deploymentOf(request, deps);
    const base = deploymentBase(scope);
    const body = html`${notice}
<section class="card" aria-labelledby="agent">
  <h2 id="agent">Agent ${agent.name} <code>${agent.agent_id}</code></h2>
  ${definitionList([
    ['Deployment', html`${deployment.name} <code>${deployment.deployment_id}</code>`],
    ['Default country', deployment.default_country ?? 'none (numbers need a country code)'],
    ['Languages', agent.languages.join(', ') || 'none'],
  ])}
  <div class="table-wrap"><table>
    <caption>Declared variables</caption>
    <thead><tr><th scope="col">Variable</th><th scope="col">Required</th><th scope="col">Default</th><th scope="col">Description</th></tr></thead>
    <tbody>${agent.variables.map(
      (v) =>
        html`<tr><th scope="row"><code>${v.name}</code></th><td>${v.required ? 'yes' : 'no'}</td><td>${v.default ?? ''}</td><td>${v.description ?? ''}</td></tr>`,
    )}</tbody>
  </table></div>
  <p class="actions"><a class="button" href="${base}/template.csv" download>Download CSV template</a>
  <a class="button secondary" href="${base}/transformation.json" download>Download matching transformation config</a></p>
  <p class="hint">The template's header is <code>phone_number</code> and the agent's variables; the config maps each column to the variable of the same name.</p>
</section>
<p class="actions"><a class="button" href="${base}/cohorts/new">Upload a cohort</a> <a class="button secondary" href="${base}/cohorts">Cohorts</a> <a class="button secondary" href="${base}/callers">Look a caller up</a></p>
${retentionSection(session, base, deployment, intervalMinutes, retentionForm)}`;
    return page({ title: `Deployment ${deployment.name}`, session, scope, body });
  }

  app.get(
    deploymentPath,
    { schema: { params: DeploymentParams, querystring: DeploymentQuery } },
    async (request, reply) => {
      const notice =
        request.query.retention === 'saved'
          ? html`<div class="notice" role="status">The cohort retention policy was saved; it is shown below.</div>`
          : html``;
      return sendPage(reply, await deploymentPage(request, notice));
    },
  );

  app.post(
    `${deploymentPath}/retention`,
    { schema: { params: DeploymentParams, body: RetentionBody } },
    async (request, reply) => {
      const { scope } = await deploymentOf(request, deps);
      requireMaster(request);
      const form: RetentionForm = {
        days: formText(request.body?.cohort_retention_days).trim(),
        strict: formText(request.body?.cohort_retention_strict) === 'true',
      };
      const days = form.days === '' ? null : /^\d{1,5}$/.test(form.days) ? Number(form.days) : Number.NaN;
      if (days !== null && !(days >= 1 && days <= MAX_RETENTION_DAYS)) {
        const problem = `Enter a whole number of days from 1 to ${MAX_RETENTION_DAYS}, or leave it empty to keep cohorts until they are deleted.`;
        const refusal = new AppError('validation_failed', problem);
        throw new FormRefusal(refusal, await deploymentPage(request, html``, { ...form, problem }), {});
      }
      await setRetentionPolicy(deps.cohorts, scope, { days, strict: form.strict }, new Date());
      return reply.redirect(`${deploymentBase(scope)}?retention=saved`, 303);
    },
  );

  app.get(`${deploymentPath}/template.csv`, deploymentRoute, async (request, reply) => {
    const { scope, agent } = await deploymentOf(request, deps);
    const header = ['phone_number', ...agent.variables.map((v) => v.name)];
    const line = safeCsvLine(header);
    // A BOM so spreadsheets read the file as UTF-8.
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="${scope.deploymentId.replace(/[^A-Za-z0-9_-]/g, '_')}-template.csv"`,
      )
      .header('cache-control', 'no-store')
      .send(`\uFEFF${line}\r\n`);
  });

  app.get(`${deploymentPath}/transformation.json`, deploymentRoute, async (request, reply) => {
    const { scope, agent } = await deploymentOf(request, deps);
    const config = {
      phone_number: { column_name: 'phone_number' },
      app_variables: Object.fromEntries(
        agent.variables.map((v) => [v.name, { column_name: v.name, format: ['trim'] }]),
      ),
    };
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="${scope.deploymentId.replace(/[^A-Za-z0-9_-]/g, '_')}-transformation.json"`,
      )
      .header('cache-control', 'no-store')
      .send(`${JSON.stringify(config, null, 2)}\n`);
  });
}
