// The erase_numbers task (#17): rewrites the stored files of every cohort an erasure listed,
// without the rows that hold one of its numbers, one cohort at a time. A cohort still processing
// is waited for (the job comes back every few seconds; its publication already drops the numbers'
// contacts). Each rewrite goes to a key of its own, named by the erasure, and is swapped in with a
// compare-and-set on the cohort's key, in the transaction that marks the cohort done and notes the
// replaced key; the replaced file is deleted after, and again by a later attempt if the process
// died first. So a killed attempt loses nothing and leaves no copy behind: the next attempt redoes
// the cohorts not marked done and deletes what the done ones replaced.
import type { Kysely } from 'kysely';
import { parseTransformationText } from '../../domain/ingest/transformation-config.js';
import { enqueue } from '../../queue/runner.js';
import type { JobFence, TaskDefinition } from '../../queue/tasks.js';
import { findDeploymentCountry } from '../../storage/repositories/deployments-repository.js';
import type { Database } from '../../storage/schema.js';
import type { FileEncoding } from '../cohorts/csv-source.js';
import { type RewriteOutcome, numberMatcher, rewriteWithout, type StoredCsv } from './erasure-files.js';
import { announceErasure, type ErasureDeps, eraseContacts } from './erasure-service.js';

/** How long the job waits before looking again at cohorts still processing. */
const PROCESSING_WAIT_MS = 2_000;
/** Records of stored files may be longer than today's ROSTER_MAX_ROW_BYTES: they were read under older settings. */
const MIN_READ_ROW_BYTES = 16 * 1024 * 1024;
/** Times one cohort is tried again when its files changed under the rewrite (another erasure swapped them). */
const SWAP_TRIES = 5;

class FilesChanged extends Error {}

interface PendingCohort {
  seq: number;
  cohortId: string | null;
  status: string | null;
}

function erasedKey(cohortId: string, erasureId: string, kind: StoredCsv['kind']): string {
  return `cohorts/${cohortId}/erased-${erasureId}/${kind}.csv`;
}

async function countryOf(db: Kysely<Database>, cohort: CohortFiles): Promise<string | undefined> {
  const parsed = parseTransformationText(cohort.transformation);
  const configured = parsed.ok ? parsed.config.phone_number.country_code : undefined;
  if (configured !== undefined) return configured.toUpperCase();
  const deployment = await findDeploymentCountry(db, {
    orgId: cohort.org_id,
    workspaceId: cohort.workspace_id,
    deploymentId: cohort.deployment_id,
  });
  return deployment?.defaultCountry?.toUpperCase() ?? undefined;
}

interface CohortFiles {
  seq: number;
  cohort_id: string;
  org_id: string;
  workspace_id: string;
  deployment_id: string;
  status: string;
  transformation: string;
  file_key: string | null;
  file_encoding: string | null;
  rejected_file_key: string | null;
}

function findCohortFiles(db: Kysely<Database>, seq: number): Promise<CohortFiles | undefined> {
  return db
    .selectFrom('cohorts')
    .select([
      'seq',
      'cohort_id',
      'org_id',
      'workspace_id',
      'deployment_id',
      'status',
      'transformation',
      'file_key',
      'file_encoding',
      'rejected_file_key',
    ])
    .where('seq', '=', seq)
    .executeTakeFirst();
}

async function markDone(trx: Kysely<Database>, erasureId: string, seq: number, oldKeys: string[]): Promise<void> {
  await trx
    .updateTable('erasure_cohorts')
    .set({ done: 1, old_keys: oldKeys.length > 0 ? JSON.stringify(oldKeys) : null })
    .where('erasure_id', '=', erasureId)
    .where('cohort_seq', '=', seq)
    .execute();
}

/** Deletes the files that done cohorts' rewrites replaced, then forgets them. */
async function deleteReplacedFiles(deps: ErasureDeps, erasureId: string): Promise<void> {
  const rows = await deps.db
    .selectFrom('erasure_cohorts')
    .select(['cohort_seq', 'old_keys'])
    .where('erasure_id', '=', erasureId)
    .where('done', '=', 1)
    .where('old_keys', 'is not', null)
    .execute();
  for (const row of rows) {
    for (const key of JSON.parse(row.old_keys!) as string[]) await deps.blobs.delete(key);
    await deps.db
      .updateTable('erasure_cohorts')
      .set({ old_keys: null })
      .where('erasure_id', '=', erasureId)
      .where('cohort_seq', '=', Number(row.cohort_seq))
      .execute();
  }
}

/**
 * One cohort: its contacts once more (a no-op unless a race let one through), then each stored
 * file, rewritten when it holds a number. Answers false when the cohort's files changed meanwhile
 * (the caller tries again with the new ones).
 */
async function eraseFromCohort(
  deps: ErasureDeps,
  erasureId: string,
  phones: readonly string[],
  cohort: CohortFiles,
  fence: JobFence,
  signal: AbortSignal,
): Promise<boolean> {
  const matches = numberMatcher(phones, await countryOf(deps.db, cohort));
  const maxRowBytes = Math.max(deps.config.cohorts.maxRowBytes, MIN_READ_ROW_BYTES);
  const files: Array<StoredCsv & { outcome?: RewriteOutcome }> = [];
  if (cohort.file_key !== null)
    files.push({ key: cohort.file_key, encoding: (cohort.file_encoding ?? 'utf-8') as FileEncoding, kind: 'source' });
  if (cohort.rejected_file_key !== null)
    files.push({ key: cohort.rejected_file_key, encoding: 'utf-8', kind: 'rejected' });
  for (const file of files)
    file.outcome = await rewriteWithout(
      deps.blobs,
      file,
      erasedKey(cohort.cohort_id, erasureId, file.kind),
      matches,
      maxRowBytes,
      signal,
    );
  const swapped = await fence
    .hold('swapping in the rewritten files', async (trx) => {
      const oldKeys: string[] = [];
      const counts = { source: 0, rejected: 0, rewritten: 0, deleted: 0 };
      for (const file of files) {
        const outcome = file.outcome!;
        if (outcome.kind === 'clean' || outcome.kind === 'missing') continue;
        const newKey = outcome.kind === 'rewritten' ? outcome.key : null;
        const update = trx.updateTable('cohorts').where('seq', '=', cohort.seq);
        const updated = await (file.kind === 'source'
          ? update
              .set({ file_key: newKey, file_bytes: outcome.kind === 'rewritten' ? outcome.bytes : null })
              .where('file_key', '=', file.key)
          : update.set({ rejected_file_key: newKey }).where('rejected_file_key', '=', file.key)
        ).executeTakeFirst();
        // Changed meanwhile (another erasure swapped it, or the cohort went): undo and start over.
        if (Number(updated.numUpdatedRows) === 0) throw new FilesChanged();
        oldKeys.push(file.key);
        if (outcome.kind === 'rewritten') {
          counts[file.kind] += outcome.removed;
          counts.rewritten++;
        } else counts.deleted++;
      }
      const contacts = await eraseContacts(trx, [cohort.seq], phones);
      await markDone(trx, erasureId, cohort.seq, oldKeys);
      await trx
        .updateTable('erasures')
        .set((eb) => ({
          contacts_removed: eb('contacts_removed', '+', contacts),
          cohort_file_rows_removed: eb('cohort_file_rows_removed', '+', counts.source),
          rejected_file_rows_removed: eb('rejected_file_rows_removed', '+', counts.rejected),
          files_rewritten: eb('files_rewritten', '+', counts.rewritten),
          files_deleted: eb('files_deleted', '+', counts.deleted),
        }))
        .where('erasure_id', '=', erasureId)
        .execute();
      return true;
    })
    .catch((error: unknown) => {
      if (error instanceof FilesChanged) return false;
      throw error;
    });
  if (!swapped) {
    // Not swapped in: the rewrites are nobody's.
    for (const file of files) if (file.outcome?.kind === 'rewritten') await deps.blobs.delete(file.outcome.key);
  }
  return swapped;
}

export function eraseNumbersTask(deps: ErasureDeps): TaskDefinition<'erase_numbers'> {
  return {
    run: async ({ erasureId }, { fence, signal }) => {
      const erasure = await deps.db
        .selectFrom('erasures')
        .selectAll()
        .where('erasure_id', '=', erasureId)
        .executeTakeFirst();
      if (erasure?.status !== 'processing' || erasure.phone_numbers === null) return;
      const phones = JSON.parse(erasure.phone_numbers) as string[];
      await deleteReplacedFiles(deps, erasureId);
      const pending: PendingCohort[] = (
        await deps.db
          .selectFrom('erasure_cohorts as ec')
          .leftJoin('cohorts as c', 'c.seq', 'ec.cohort_seq')
          .select(['ec.cohort_seq as seq', 'c.cohort_id as cohortId', 'c.status as status'])
          .where('ec.erasure_id', '=', erasureId)
          .where('ec.done', '=', 0)
          .orderBy('ec.cohort_seq')
          .execute()
      ).map((row) => ({ seq: Number(row.seq), cohortId: row.cohortId, status: row.status }));
      let waiting = 0;
      for (const entry of pending) {
        signal.throwIfAborted();
        if (entry.status === 'processing') {
          waiting++;
          continue;
        }
        for (let tries = 1; ; tries++) {
          const cohort = await findCohortFiles(deps.db, entry.seq);
          if (cohort === undefined) {
            // Deleted, files and all.
            await fence.hold('noting a deleted cohort', (trx) => markDone(trx, erasureId, entry.seq, []));
            break;
          }
          if (await eraseFromCohort(deps, erasureId, phones, cohort, fence, signal)) break;
          if (tries >= SWAP_TRIES)
            throw new Error(`the files of cohort ${cohort.cohort_id} kept changing during the rewrite`);
        }
      }
      await deleteReplacedFiles(deps, erasureId);
      if (waiting > 0) {
        const now = new Date();
        await fence.complete('waiting for processing cohorts', (trx) =>
          enqueue(
            trx,
            'erase_numbers',
            { erasureId },
            deps.config.jobs.maxAttempts,
            now,
            new Date(now.getTime() + PROCESSING_WAIT_MS),
          ),
        );
        return;
      }
      await fence.complete('completing the erasure', async (trx) => {
        const now = new Date().toISOString();
        await trx
          .updateTable('erasures')
          .set({ status: 'completed', phone_numbers: null, completed_at: now })
          .where('erasure_id', '=', erasureId)
          .execute();
        await trx.deleteFrom('erasure_cohorts').where('erasure_id', '=', erasureId).execute();
        const done = await trx
          .selectFrom('erasures')
          .selectAll()
          .where('erasure_id', '=', erasureId)
          .executeTakeFirstOrThrow();
        await announceErasure(deps, trx, done);
      });
    },
    // Every attempt failed (storage down for the whole retry budget): the request ends failed, the
    // numbers are forgotten and its cohorts' downloads open again; sending the request again redoes it.
    fail: async (trx, { erasureId }, failure) => {
      const reason = failure.error instanceof Error ? failure.error.message : (failure.lastError ?? 'the job failed');
      await trx
        .updateTable('erasures')
        .set({
          status: 'failed',
          phone_numbers: null,
          completed_at: new Date().toISOString(),
          error_message: `Rewriting the stored files failed ${failure.attempts} times (${reason}). What the database held is erased; send the request again to finish the files.`,
        })
        .where('erasure_id', '=', erasureId)
        .where('status', '=', 'processing')
        .execute();
      await trx.deleteFrom('erasure_cohorts').where('erasure_id', '=', erasureId).where('done', '=', 0).execute();
    },
    afterFailure: async ({ erasureId }) => {
      await deleteReplacedFiles(deps, erasureId);
      await deps.db.deleteFrom('erasure_cohorts').where('erasure_id', '=', erasureId).execute();
    },
  };
}
