import { parseTransformationText, planIngest, type BlockingIssue } from '../../domain/ingest/transformation-config.js';
import { nowIso } from '../../domain/tenancy/ids.js';
import * as cohorts from '../../storage/repositories/cohorts-repository.js';
import { findAgent, findDeployment } from '../../storage/repositories/tenants-repository.js';
import type { AgentVariable } from '../tenancy-service.js';
import { blobKeys, BlockingCohortError, type CohortDeps } from './cohort-deps.js';
import { readCsvRecords, type FileEncoding } from './csv-source.js';
import { ingestRows } from './ingest-rows.js';
import { RejectionWriter } from './rejection-writer.js';
import { inlineTransformer, workerTransformer, type RowTransformer } from './row-transformer.js';
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
async function storedFileOf(deps: CohortDeps, cohort: cohorts.CohortRow, signal: AbortSignal): Promise<{ key: string; encoding: FileEncoding; bytes: number | null }> {
  if (cohort.file_key) return { key: cohort.file_key, encoding: (cohort.file_encoding ?? 'utf-8') as FileEncoding, bytes: cohort.file_bytes === null ? null : Number(cohort.file_bytes) };
  if (cohort.source_type !== 'pre_signed_url' || !cohort.source_url) throw new BlockingCohortError('missing_file', 'The cohort has no stored file.');
  const key = blobKeys.source(cohort.cohort_id);
  const downloaded = await downloadToBlob(deps, cohort.source_url, key, signal);
  await cohorts.updateCohort(deps.db, cohort.seq, { file_key: key, file_encoding: downloaded.encoding, file_bytes: downloaded.bytes });
  return { key, encoding: downloaded.encoding, bytes: downloaded.bytes };
}

/** Below this size the rows are transformed on the calling thread: starting workers would cost more. */
const WORKER_THRESHOLD_BYTES = 1024 * 1024;

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
    await deps.contacts.clear(cohort.seq);
    const parsed = parseTransformationText(cohort.transformation);
    if (!parsed.ok) throw blockingError(parsed.issues);
    const agent = await agentVariablesOf(deps, scope);
    const file = await storedFileOf(deps, cohort, signal);
    const source = await readCsvRecords(await deps.blobs.get(file.key), file.encoding);
    let rejections: RejectionWriter | undefined;
    try {
      const header = source.header;
      if (header === undefined) throw new BlockingCohortError('empty_header', 'The file is empty: it has no header row.');
      const planOptions = { defaultCountry: agent.defaultCountry, maxColumns: limits.maxColumns, maxFieldLength: limits.maxFieldLength };
      const planned = planIngest(parsed.config, header, agent.variables, planOptions);
      if (!planned.ok) throw blockingError(planned.issues);
      rejections = new RejectionWriter(deps.blobs, blobKeys.rejected(cohortId), header);
      const planInput = { config: parsed.config, header, agentVariables: agent.variables, options: planOptions };
      const workers = (file.bytes ?? 0) >= WORKER_THRESHOLD_BYTES ? limits.workers : 0;
      const load = await deps.contacts.begin(cohort.seq, rejections);
      let transformer: RowTransformer | undefined;
      let total: number;
      let valid: number;
      try {
        transformer = workers > 0 ? workerTransformer(planInput, workers) : inlineTransformer(planInput);
        total = await ingestRows({
          load,
          cohortSeq: cohort.seq,
          batches: source.batches,
          transformer,
          unitSize: limits.batchSize,
          depth: Math.max(2, workers * 2),
          maxRows: limits.maxRows,
          signal,
        });
        if (total === 0) throw new BlockingCohortError('no_data_rows', 'The file has a header but no data row.');
        valid = await load.finish();
      } catch (error) {
        await load.abort();
        throw error;
      } finally {
        await transformer?.close();
      }
      await rejections.finish();
      const published = await cohorts.completeCohort(deps.db, cohort.seq, {
        total,
        valid,
        rejected: total - valid,
        rejectedFileKey: rejections.key,
        now: nowIso(),
      });
      if (!published) await deps.contacts.clear(cohort.seq);
      else deps.metrics?.rowsIngested(valid, total - valid);
    } catch (error) {
      rejections?.abort();
      throw error;
    } finally {
      source.close();
    }
  } catch (error) {
    if (!(error instanceof BlockingCohortError)) throw error;
    await deps.contacts.clear(cohort.seq);
    await deps.blobs.delete(blobKeys.rejected(cohortId));
    await cohorts.failCohort(deps.db, cohort.seq, { code: error.code, message: error.message, details: error.details, now: nowIso() });
  }
}

/** After the last attempt: the cohort fails with a message a person can act on; internals stay in the log. */
export async function failCohortAfterRetries(deps: CohortDeps, cohortId: string): Promise<void> {
  const cohort = await cohorts.findCohortById(deps.db, cohortId);
  if (!cohort) return;
  await deps.contacts.clear(cohort.seq);
  await cohorts.failCohort(deps.db, cohort.seq, {
    code: 'processing_failed',
    message: cohort.file_key
      ? `Processing failed ${deps.config.jobs.maxAttempts} times; the file was kept. Upload it again, or contact support with cohort id ${cohortId}.`
      : `Downloading the file failed ${deps.config.jobs.maxAttempts} times (timeouts, network or server errors). Check that the URL is reachable, then create the cohort again, or contact support with cohort id ${cohortId}.`,
    details: null,
    now: nowIso(),
  });
}
