import { parseTransformationText, planIngest, type BlockingIssue } from '../../domain/ingest/transformation-config.js';
import { transformRow } from '../../domain/ingest/transform-row.js';
import { nowIso } from '../../domain/tenancy/ids.js';
import * as cohorts from '../../storage/repositories/cohorts-repository.js';
import { findAgent, findDeployment } from '../../storage/repositories/tenants-repository.js';
import type { AgentVariable } from '../tenancy-service.js';
import { blobKeys, BlockingCohortError, type CohortDeps } from './cohort-deps.js';
import { readCsvRecords, type FileEncoding } from './csv-source.js';
import { RejectionWriter } from './rejection-writer.js';
import { downloadToBlob } from './url-source.js';

/** Turns the first of a list of blocking issues into the cohort's error (all of them in details). */
export function blockingError(issues: BlockingIssue[]): BlockingCohortError {
  const first = issues[0]!;
  const message = issues.length === 1 ? first.message : issues.map((i) => i.message).join(' ');
  return new BlockingCohortError(first.code, message, issues.map((i) => ({ code: i.code, message: i.message, details: i.details ?? null })));
}

/** The agent variables a deployment's cohorts map to. */
export async function agentVariablesOf(deps: CohortDeps, scope: cohorts.DeploymentScope): Promise<{ variables: AgentVariable[]; defaultCountry: string | undefined }> {
  const deployment = await findDeployment(deps.db, scope.orgId, scope.workspaceId, scope.deploymentId);
  if (!deployment) throw new BlockingCohortError('not_found', `Deployment '${scope.deploymentId}' no longer exists.`);
  const agent = await findAgent(deps.db, scope.orgId, scope.workspaceId, deployment.agent_id);
  if (!agent) throw new BlockingCohortError('not_found', `Agent '${deployment.agent_id}' of deployment '${scope.deploymentId}' no longer exists.`);
  return { variables: JSON.parse(agent.variables) as AgentVariable[], defaultCountry: deployment.default_country ?? undefined };
}

/**
 * The cohort's CSV in object storage. A URL cohort downloads it on its first attempt and records it
 * on the row, so later attempts reuse it; an attempt that crashed before that downloads again (the
 * blob appears only once complete).
 */
async function storedFileOf(deps: CohortDeps, cohort: cohorts.CohortRow, signal: AbortSignal): Promise<{ key: string; encoding: FileEncoding }> {
  if (cohort.file_key) return { key: cohort.file_key, encoding: (cohort.file_encoding ?? 'utf-8') as FileEncoding };
  if (cohort.source_type !== 'pre_signed_url' || !cohort.source_url) throw new BlockingCohortError('missing_file', 'The cohort has no stored file.');
  const key = blobKeys.source(cohort.cohort_id);
  const downloaded = await downloadToBlob(deps, cohort.source_url, key, signal);
  await cohorts.updateCohort(deps.db, cohort.seq, { file_key: key, file_encoding: downloaded.encoding, file_bytes: downloaded.bytes });
  return { key, encoding: downloaded.encoding };
}

interface PendingRejection {
  row: number;
  fields: string[];
  reason: string;
}

/**
 * Processes one cohort from its stored file: every attempt starts from a clean slate (contacts of an
 * interrupted attempt are removed), writes contacts in bounded batches, streams rejections to their
 * file, and publishes the cohort in one statement at the end. Memory stays flat: one batch at a time.
 */
export async function ingestCohort(deps: CohortDeps, cohortId: string, signal: AbortSignal): Promise<void> {
  const cohort = await cohorts.findCohortById(deps.db, cohortId);
  if (!cohort || cohort.status !== 'processing') return;
  const scope = { orgId: cohort.org_id, workspaceId: cohort.workspace_id, deploymentId: cohort.deployment_id };
  const limits = deps.config.cohorts;
  try {
    await cohorts.deleteContactsOfCohort(deps.db, cohort.seq);
    const parsed = parseTransformationText(cohort.transformation);
    if (!parsed.ok) throw blockingError(parsed.issues);
    const agent = await agentVariablesOf(deps, scope);
    const file = await storedFileOf(deps, cohort, signal);
    const source = await readCsvRecords(await deps.blobs.get(file.key), file.encoding);
    let rejections: RejectionWriter | undefined;
    try {
      const header = source.header;
      if (header === undefined) throw new BlockingCohortError('empty_header', 'The file is empty: it has no header row.');
      const planned = planIngest(parsed.config, header, agent.variables, {
        defaultCountry: agent.defaultCountry,
        maxColumns: limits.maxColumns,
        maxFieldLength: limits.maxFieldLength,
      });
      if (!planned.ok) throw blockingError(planned.issues);
      rejections = new RejectionWriter(deps.blobs, blobKeys.rejected(cohortId), header);

      let total = 0;
      let valid = 0;
      let batch: cohorts.ContactRow[] = [];
      let pending: PendingRejection[] = [];
      const flush = async () => {
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
        const inserted = await cohorts.insertContacts(deps.db, batch);
        valid += inserted.size;
        const repeated = batch.filter((c) => !inserted.has(c.row_number));
        if (repeated.length > 0) {
          const firstRows = await cohorts.findFirstRows(deps.db, cohort.seq, [...new Set(repeated.map((c) => c.phone))]);
          for (const contact of repeated) {
            pending.push({ row: contact.row_number, fields: rowFields.get(contact.row_number) ?? [], reason: `phone ${contact.phone} repeats row ${firstRows.get(contact.phone) ?? '?'}; the first row is kept` });
          }
        }
        pending.sort((a, b) => a.row - b.row);
        for (const rejection of pending) await rejections!.add(rejection.fields, rejection.reason);
        batch = [];
        pending = [];
        rowFields.clear();
      };
      // Fields of this batch's accepted rows, kept only until the batch is flushed, so a row found
      // to repeat a phone can still be written to the rejection file as uploaded.
      const rowFields = new Map<number, string[]>();

      for await (const records of source.batches) {
        for (const fields of records) {
          total++;
          if (total > limits.maxRows) {
            throw new BlockingCohortError('too_many_rows', `The file has more than ${limits.maxRows} data rows (ROSTER_MAX_ROWS); split it into several cohorts.`, { max_rows: limits.maxRows });
          }
          const row = total + 1; // the spreadsheet row: the header is row 1
          const outcome = transformRow(planned.plan, fields);
          if (outcome.ok) {
            batch.push({
              cohort_seq: cohort.seq,
              row_number: row,
              phone: outcome.phone,
              user_identifier: outcome.userIdentifier,
              app_variables: JSON.stringify(outcome.appVariables),
              app_overrides: JSON.stringify(outcome.appOverrides),
            });
            rowFields.set(row, fields);
          } else {
            pending.push({ row, fields, reason: outcome.reason });
          }
          if (batch.length + pending.length >= limits.batchSize) await flush();
        }
      }
      await flush();
      if (total === 0) throw new BlockingCohortError('no_data_rows', 'The file has a header but no data row.');
      await rejections.finish();
      const published = await cohorts.completeCohort(deps.db, cohort.seq, {
        total,
        valid,
        rejected: total - valid,
        rejectedFileKey: rejections.key,
        now: nowIso(),
      });
      if (!published) await cohorts.deleteContactsOfCohort(deps.db, cohort.seq);
    } catch (error) {
      rejections?.abort();
      throw error;
    } finally {
      source.close();
    }
  } catch (error) {
    if (!(error instanceof BlockingCohortError)) throw error;
    await cohorts.deleteContactsOfCohort(deps.db, cohort.seq);
    await deps.blobs.delete(blobKeys.rejected(cohortId));
    await cohorts.failCohort(deps.db, cohort.seq, { code: error.code, message: error.message, details: error.details, now: nowIso() });
  }
}

/** After the last attempt: the cohort fails with a message a person can act on; internals stay in the log. */
export async function failCohortAfterRetries(deps: CohortDeps, cohortId: string): Promise<void> {
  const cohort = await cohorts.findCohortById(deps.db, cohortId);
  if (!cohort) return;
  await cohorts.deleteContactsOfCohort(deps.db, cohort.seq);
  await cohorts.failCohort(deps.db, cohort.seq, {
    code: 'processing_failed',
    message: cohort.file_key
      ? `Processing failed ${deps.config.jobs.maxAttempts} times; the file was kept. Upload it again, or contact support with cohort id ${cohortId}.`
      : `Downloading the file failed ${deps.config.jobs.maxAttempts} times (timeouts, network or server errors). Check that the URL is reachable, then create the cohort again, or contact support with cohort id ${cohortId}.`,
    details: null,
    now: nowIso(),
  });
}
