import { eraseAtPublication } from '../erasure/erasure-service.js';
import { announceCohortEnd } from './cohort-events.js';
import type { Transaction } from 'kysely';
import type { Config } from '../../config.js';
import { planIngest } from '../../domain/ingest/ingest-plan.js';
import { parseTransformationText } from '../../domain/ingest/transformation-config.js';
import type { TransformationConfig } from '../../domain/ingest/transformation-schema.js';
import type { BlockingIssue } from '../../domain/ingest/blocking-issue.js';
import type { AgentVariable } from '../../domain/tenancy/agent-variable.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { nowIso } from '../../domain/tenancy/ids.js';
import type { FinalFailure, JobFence } from '../../queue/tasks.js';
import type { ContactLoad, LoadFence } from '../../storage/contact-loader.js';
import { assertDiskReserve } from '../../storage/disk-reserve.js';
import { isDiskFull } from '../../storage/db-errors.js';
import type { Database } from '../../storage/schema.js';
import * as cohorts from '../../storage/repositories/cohorts-repository.js';
import { findAgent } from '../../storage/repositories/agents-repository.js';
import { findDeployment } from '../../storage/repositories/deployments-repository.js';
import { blobKeys, BlockingCohortError, type CohortDeps } from './cohort-deps.js';
import { readCsvRecords, type FileEncoding } from './csv-source.js';
import { ProgressThrottle } from './ingest-progress.js';
import { ingestRows } from './ingest-rows.js';
import { RejectionWriter } from './rejection-writer.js';
import { fileTransformer, type PlanInput, type RowTransformer } from './row-transformer.js';
import { downloadToBlob } from './url-source.js';

/** Turns the first of a list of blocking issues into the cohort's error (all of them in details). */
export function blockingError(issues: BlockingIssue[]): BlockingCohortError {
  const first = issues[0]!;
  const message = issues.length === 1 ? first.message : issues.map((i) => i.message).join(' ');
  return new BlockingCohortError(
    first.code,
    message,
    issues.map((i) => ({ code: i.code, message: i.message, details: i.details ?? null })),
  );
}

/** The agent variables a deployment's cohorts map to. */
export async function agentVariablesOf(
  deps: CohortDeps,
  scope: DeploymentScope,
): Promise<{ variables: AgentVariable[]; defaultCountry: string | undefined }> {
  const deployment = await findDeployment(deps.db, scope.orgId, scope.workspaceId, scope.deploymentId);
  if (!deployment) throw new BlockingCohortError('not_found', `Deployment '${scope.deploymentId}' no longer exists.`);
  const agent = await findAgent(deps.db, scope.orgId, scope.workspaceId, deployment.agent_id);
  if (!agent)
    throw new BlockingCohortError(
      'not_found',
      `Agent '${deployment.agent_id}' of deployment '${scope.deploymentId}' no longer exists.`,
    );
  return {
    variables: agent.variables,
    defaultCountry: deployment.default_country ?? undefined,
  };
}

/**
 * What the transformer needs for a file with this header: the config, the deployment's variables
 * and the limits, with the plan checked first; a blocking problem throws (BlockingCohortError).
 */
export function checkedPlanInput(
  config: TransformationConfig,
  header: string[],
  agent: { variables: AgentVariable[]; defaultCountry: string | undefined },
  limits: Config['cohorts'],
): PlanInput {
  const options = {
    defaultCountry: agent.defaultCountry,
    maxColumns: limits.maxColumns,
    maxFieldLength: limits.maxFieldLength,
  };
  const planned = planIngest(config, header, agent.variables, options);
  if (!planned.ok) throw blockingError(planned.issues);
  return { config, header, agentVariables: agent.variables, options };
}

/**
 * The cohort's CSV in object storage. A URL cohort downloads it on its first attempt and records it
 * on the row, so later attempts reuse it; an attempt that crashed before that downloads again (the
 * blob appears only once complete).
 */
async function storedFileOf(
  deps: CohortDeps,
  cohort: cohorts.CohortRow,
  fence: JobFence,
  signal: AbortSignal,
): Promise<{ key: string; encoding: FileEncoding; bytes: number | null }> {
  if (cohort.file_key)
    return {
      key: cohort.file_key,
      encoding: (cohort.file_encoding ?? 'utf-8') as FileEncoding,
      bytes: cohort.file_bytes === null ? null : Number(cohort.file_bytes),
    };
  if (cohort.source_type !== 'pre_signed_url' || !cohort.source_url)
    throw new BlockingCohortError('missing_file', 'The cohort has no stored file.');
  const key = blobKeys.source(cohort.cohort_id);
  const downloaded = await downloadToBlob(deps, cohort.source_url, key, signal);
  await fence.hold('recording the downloaded file', (trx) =>
    cohorts.updateCohort(trx, cohort.seq, {
      file_key: key,
      file_encoding: downloaded.encoding,
      file_bytes: downloaded.bytes,
    }),
  );
  return { key, encoding: downloaded.encoding, bytes: downloaded.bytes };
}

/**
 * Processes one cohort from its stored file, as one attempt of its job. Every attempt starts from a
 * clean slate (contacts of an interrupted attempt are removed, progress reset), writes contacts in
 * bounded batches, streams rejections to a file of its own, records its progress each second or
 * 10,000 rows (ProgressThrottle), and publishes the cohort — with the job done — in one transaction
 * at the end. Every write goes through the attempt's fence: an attempt that lost its job (a worker
 * paused past its lease, another claim) stops at its next write and changes nothing.
 */
export async function ingestCohort(
  deps: CohortDeps,
  cohortId: string,
  context: { signal: AbortSignal; fence: JobFence },
): Promise<void> {
  const { signal, fence } = context;
  const cohort = await cohorts.findCohortById(deps.db, cohortId);
  if (cohort?.status !== 'processing') return;
  const scope = { orgId: cohort.org_id, workspaceId: cohort.workspace_id, deploymentId: cohort.deployment_id };
  const limits = deps.config.cohorts;
  const loadFence: LoadFence = { claim: fence.claim, leaseMs: deps.config.jobs.leaseMs };
  const rejectedKey = blobKeys.rejected(cohortId, fence.claim.token);
  try {
    // A new attempt's progress starts from nothing, whatever an earlier attempt had shown.
    await fence.hold('resetting its progress', (trx) => cohorts.startCohortProgress(trx, cohort.seq, nowIso()));
    await deps.contacts.clear(cohort.seq, loadFence);
    const parsed = parseTransformationText(cohort.transformation);
    if (!parsed.ok) throw blockingError(parsed.issues);
    const agent = await agentVariablesOf(deps, scope);
    const file = await storedFileOf(deps, cohort, fence, signal);
    const source = await readCsvRecords(await deps.blobs.get(file.key), file.encoding, {
      maxRowBytes: limits.maxRowBytes,
    });
    let rejections: RejectionWriter | undefined;
    try {
      const header = source.header;
      if (header === undefined)
        throw new BlockingCohortError('empty_header', 'The file is empty: it has no header row.');
      const planInput = checkedPlanInput(parsed.config, header, agent, limits);
      rejections = new RejectionWriter(deps.blobs, rejectedKey, header);
      const reserve = diskReserveCheck(deps.config);
      const load = keepingDiskReserve(await deps.contacts.begin(cohort.seq, rejections, loadFence, reserve), reserve);
      const progress = new ProgressThrottle(
        (counts) => fence.hold('recording progress', (trx) => cohorts.recordCohortProgress(trx, cohort.seq, counts)),
        () => source.bytesRead,
      );
      let transformer: RowTransformer | undefined;
      let total: number;
      let valid: number;
      try {
        const chosen = fileTransformer(planInput, file.bytes, limits.workers, deps.transformPool);
        transformer = chosen.transformer;
        total = await ingestRows({
          load,
          cohortSeq: cohort.seq,
          batches: source.batches,
          transformer,
          unitSize: limits.batchSize,
          depth: chosen.depth,
          maxRows: limits.maxRows,
          signal,
          onUnit: (written) => progress.unitWritten(written),
        });
        await progress.flush();
        if (total === 0) throw new BlockingCohortError('no_data_rows', 'The file has a header but no data row.');
        valid = await load.finish();
      } catch (error) {
        await load.abort();
        throw error;
      } finally {
        await transformer?.close();
      }
      await rejections.finish();
      const result = {
        total,
        valid,
        rejected: total - valid,
        rejectionsByReason: rejections.byReason,
        rejectedFileKey: rejections.key,
        now: nowIso(),
      };
      const published = await fence.complete('publishing the cohort', async (trx) => {
        const done = await cohorts.completeCohort(trx, cohort.seq, result);
        // After the row is marked (and locked): an erasure that came meanwhile drops its numbers now.
        if (done) await eraseAtPublication(trx, cohort.seq);
        if (done) await announceCohortEnd(trx, cohortId, deps.config.jobs.maxAttempts);
        return done;
      });
      if (!published) {
        // Deleted (or failed) while it was processing: what this attempt wrote has no cohort to show it.
        await deps.contacts.clear(cohort.seq, undefined);
        await deps.blobs.delete(rejectedKey);
      } else deps.metrics?.rowsIngested(valid, total - valid);
    } catch (error) {
      rejections?.abort();
      throw error;
    } finally {
      source.close();
    }
  } catch (error) {
    if (!(error instanceof BlockingCohortError)) {
      // This attempt's rejection file is its own: nobody else will publish it.
      await deps.blobs.delete(rejectedKey).catch(() => undefined);
      throw error;
    }
    // A problem with the file itself: the cohort fails now, with the job done (not retried).
    await fence.complete('failing the cohort', async (trx) => {
      await cohorts.failCohort(trx, cohort.seq, {
        code: error.code,
        message: error.message,
        details: error.details,
        now: nowIso(),
      });
      await announceCohortEnd(trx, cohortId, deps.config.jobs.maxAttempts);
    });
    await cleanUpFailedCohort(deps, cohort.seq, cohortId);
  }
}

/** What a failed cohort no longer needs: its contacts (invisible already) and rejection files. Best effort. */
async function cleanUpFailedCohort(deps: CohortDeps, seq: number, cohortId: string): Promise<void> {
  await deps.contacts.clear(seq, undefined);
  await deps.blobs.deletePrefix(blobKeys.rejectedFolder(cohortId));
}

/** A person's account of why the attempts failed: the disk, repeated crashes, or the last error. */
function failureMessage(cohort: cohorts.CohortRow, failure: FinalFailure): string {
  const n = failure.attempts;
  const support = `cohort id ${cohort.cohort_id}`;
  if (isDiskFull(failure.error) || isDiskFull(failure.lastError)) {
    return `Processing failed ${n} time${n === 1 ? '' : 's'}: the server's disk is full. Ask the operator to free space, then upload the file again (${support}).`;
  }
  if (!cohort.file_key) {
    return `Downloading the file failed ${n} time${n === 1 ? '' : 's'} (timeouts, network or server errors). Check that the URL is reachable, then create the cohort again, or contact support with ${support}.`;
  }
  if (failure.lostAttempts >= n) {
    return `Processing failed: the worker stopped during processing on each of ${n} attempt${n === 1 ? '' : 's'} (killed or out of memory); the file was kept. Contact support with ${support}.`;
  }
  const crashes = failure.lostAttempts > 0 ? ` (the worker stopped during ${failure.lostAttempts} of them)` : '';
  return `Processing failed ${n} time${n === 1 ? '' : 's'}${crashes}; the file was kept. Upload it again, or contact support with ${support}.`;
}

/**
 * After the last attempt, inside the transaction that fails the job: the cohort fails with a
 * message a person can act on (internals stay in the log). One small UPDATE, so it can be written
 * even where the bulk clean-up could not (a full disk); the clean-up comes after, best effort.
 */
export async function failCohortAfterRetries(
  trx: Transaction<Database>,
  cohortId: string,
  failure: FinalFailure,
  maxAttempts: number,
): Promise<void> {
  const cohort = await cohorts.findCohortById(trx, cohortId);
  if (!cohort) return;
  await cohorts.failCohort(trx, cohort.seq, {
    code: 'processing_failed',
    message: failureMessage(cohort, failure),
    details: null,
    now: nowIso(),
  });
  await announceCohortEnd(trx, cohortId, maxAttempts);
}

/**
 * Refuses while the data folder's disk is below its reserve (DiskReserveError, which reads as a full
 * disk), when the load writes there: the SQLite database, or rejection files kept on local disk. The
 * attempt then fails with room left to record that it did. Undefined when nothing is written there.
 */
function diskReserveCheck(config: Config): (() => Promise<void>) | undefined {
  if (config.databaseUrl !== undefined && config.s3 !== undefined) return undefined;
  return () => assertDiskReserve(config.dataDir, config.diskReserveBytes);
}

/** The load, checking the disk reserve before each unit (see diskReserveCheck). */
function keepingDiskReserve(load: ContactLoad, reserve: (() => Promise<void>) | undefined): ContactLoad {
  if (reserve === undefined) return load;
  return {
    add: async (unit) => {
      await reserve();
      await load.add(unit);
    },
    finish: () => load.finish(),
    abort: () => load.abort(),
  };
}

/** Removes what failed cohorts' clean-ups left (a few cohorts a call, so each sweep stays short). */
export async function sweepFailedCohorts(deps: CohortDeps): Promise<number> {
  const leftovers = await cohorts.findFailedCohortsWithContacts(deps.db, 5);
  for (const cohort of leftovers) await cleanUpFailedCohort(deps, cohort.seq, cohort.cohort_id);
  return leftovers.length;
}

/** The clean-up after a cohort failed for good: its contacts and rejection files. */
export async function cleanUpAfterRetries(deps: CohortDeps, cohortId: string): Promise<void> {
  const cohort = await cohorts.findCohortById(deps.db, cohortId);
  if (cohort?.status === 'failed') await cleanUpFailedCohort(deps, cohort.seq, cohortId);
}
