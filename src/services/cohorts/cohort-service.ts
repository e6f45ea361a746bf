import { erasureRewriting } from '../erasure/erasure-service.js';
import type { RecordCreated } from '../record-created.js';
import { randomBytes } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { AppError, type ErrorCode } from '../../errors.js';
import { planIngest } from '../../domain/ingest/ingest-plan.js';
import type { RejectionsByReason } from '../../domain/ingest/row-rejection.js';
import { parseTransformationText, parseTransformationValue } from '../../domain/ingest/transformation-config.js';
import { nowIso } from '../../domain/tenancy/ids.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { enqueue } from '../../queue/runner.js';
import { BlobNotFoundError } from '../../storage/blobs/blob-store.js';
import * as cohorts from '../../storage/repositories/cohorts-repository.js';
import type { PageRequest } from '../../storage/repositories/paging.js';
import { getDeployment } from '../tenancy-service.js';
import { blobKeys, BlockingCohortError, type CohortDeps } from './cohort-deps.js';
import { EncodingSniffer, readCsvRecords, type FileEncoding } from './csv-source.js';
import { agentVariablesOf, blockingError } from './ingest-cohort.js';
import { schemeRefusal } from './url-source.js';

/**
 * A completed cohort's counts: the vendor's three, and Roster's rejected rows by code (null only for
 * a cohort completed with rejections before Roster counted them).
 */
export interface CohortResult {
  total_records: number;
  valid_records: number;
  rejected_records: number;
  rejections_by_reason: RejectionsByReason[] | null;
}

/** How far the running attempt has got (see CohortProgressSchema). */
export interface CohortProgressView {
  rows_processed: number;
  bytes_processed: number;
  bytes_total: number | null;
  valid_so_far: number;
  rejected_so_far: number;
  started_at: string;
}

/**
 * The vendor's cohort shape; `error` only on a failed cohort, and Roster's `progress` only while an
 * attempt is processing it (absent otherwise, so the vendor's shape is unchanged).
 */
export interface CohortView {
  name: string;
  cohort_id: string;
  status: 'processing' | 'completed' | 'failed';
  source_type: 'file_upload' | 'pre_signed_url';
  result: CohortResult | null;
  created_by: string;
  created_at: string;
  updated_by: string | null;
  updated_at: string;
  error?: { code: string; message: string; details: unknown };
  progress?: CohortProgressView;
  /** Roster's live marker: how many of its phones lookups answer from this cohort now (0 unless completed). */
  serving_phones: number;
  is_live: boolean;
}

function progressView(row: cohorts.CohortRow): CohortProgressView | undefined {
  if (row.status !== 'processing' || row.progress_started_at === null) return undefined;
  return {
    rows_processed: Number(row.progress_rows ?? 0),
    bytes_processed: Number(row.progress_bytes ?? 0),
    bytes_total: row.file_bytes === null ? null : Number(row.file_bytes),
    valid_so_far: Number(row.progress_valid ?? 0),
    rejected_so_far: Number(row.progress_rejected ?? 0),
    started_at: row.progress_started_at,
  };
}

/** The API's view of a cohort; `servingPhones` from countServingPhones (0 for a cohort that cannot serve). */
export function cohortView(row: cohorts.CohortRow, servingPhones = 0): CohortView {
  const serving = row.status === 'completed' ? servingPhones : 0;
  const progress = progressView(row);
  return {
    name: row.name,
    cohort_id: row.cohort_id,
    status: row.status,
    source_type: row.source_type,
    result:
      row.status === 'completed'
        ? {
            total_records: Number(row.total_records),
            valid_records: Number(row.valid_records),
            rejected_records: Number(row.rejected_records),
            rejections_by_reason: row.rejections_by_reason,
          }
        : null,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_by: row.updated_by,
    updated_at: row.updated_at,
    ...(row.status === 'failed'
      ? {
          error: {
            code: row.error_code ?? 'processing_failed',
            message: row.error_message ?? '',
            details: row.error_details ?? null,
          },
        }
      : {}),
    ...(progress ? { progress } : {}),
    serving_phones: serving,
    is_live: serving > 0,
  };
}

/** Serving counts of the completed cohorts among `rows`, in one statement. */
async function servingOf(
  deps: CohortDeps,
  scope: DeploymentScope,
  rows: cohorts.CohortRow[],
): Promise<Map<number, number>> {
  const completed = rows.filter((row) => row.status === 'completed').map((row) => Number(row.seq));
  return cohorts.countServingPhones(deps.db, scope, completed);
}

/** One cohort as the API shows it, its live marker included. */
export async function viewCohort(deps: CohortDeps, scope: DeploymentScope, cohortId: string): Promise<CohortView> {
  const row = await getCohort(deps, scope, cohortId);
  const serving = await servingOf(deps, scope, [row]);
  return cohortView(row, serving.get(Number(row.seq)) ?? 0);
}

/** The vendor's name rule, with \w read as Unicode letters and digits (as the vendor's Python does). */
const COHORT_NAME = /^[\p{L}\p{N}_\- ]{1,50}$/u;

export function checkCohortName(name: string | undefined): string {
  if (name === undefined || !COHORT_NAME.test(name)) {
    throw new AppError('validation_failed', 'Cohort name must be 1–50 letters, digits, spaces, _ or -.', [
      { field: '/body/name', message: name === undefined ? 'is required' : 'must match ^[\\w\\- ]{1,50}$' },
    ]);
  }
  return name;
}

export function newCohortId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `coh-${[...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export function createdBy(principal: Principal): string {
  return principal.kind === 'key' ? principal.userEmail : 'admin';
}

export interface StagedFile {
  key: string;
  bytes: number;
  encoding: FileEncoding;
}

/** Streams an uploaded CSV into object storage, never holding it whole, and notes its encoding. */
export async function stageCohortFile(deps: CohortDeps, cohortId: string, file: Readable): Promise<StagedFile> {
  const sniffer = new EncodingSniffer();
  const key = blobKeys.source(cohortId);
  // A failed upload stream (client gone, over the size limit, a multipart body cut off) must fail
  // the put too, so the store aborts it instead of waiting for the rest of the file. pipeline()
  // (not pipe()) passes the error on, also when the part had already failed before it was read:
  // a truncated body is often parsed to its end before this runs, and would otherwise hang here.
  pipeline(file, sniffer, () => undefined);
  const { bytes } = await deps.blobs.put(key, sniffer);
  return { key, bytes, encoding: sniffer.encoding };
}

/**
 * Drops what a refused upload staged. The refusal is what the client must hear, so a failed
 * clean-up is logged rather than thrown (the file is under the cohort id no cohort row has).
 */
export async function discardStagedUpload(
  deps: CohortDeps,
  cohortId: string,
  log: { warn(object: object, message: string): void },
): Promise<void> {
  await deps.blobs.deletePrefix(blobKeys.folder(cohortId)).catch((error: unknown) => {
    log.warn({ err: error, cohortId }, 'could not delete the staged file of a refused upload');
  });
}

/** A blocking problem as the client hears it (422 with its code). */
export function asAppError(error: BlockingCohortError): AppError {
  return new AppError(error.code as ErrorCode, error.message, error.details);
}

/**
 * Accepts a staged upload: refuses it whole (422, staged file deleted) on any blocking problem in
 * the config or the header, else creates the cohort and its job in one transaction.
 */
export async function acceptCohortUpload(
  deps: CohortDeps,
  scope: DeploymentScope,
  principal: Principal,
  input: {
    cohortId: string;
    name: string;
    staged: StagedFile;
    transformationText: string;
    recordCreated?: RecordCreated<CohortView> | undefined;
  },
): Promise<CohortView> {
  try {
    const parsed = parseTransformationText(input.transformationText);
    if (!parsed.ok) throw blockingError(parsed.issues);
    const agent = await agentVariablesOf(deps, scope);
    const source = await readCsvRecords(await deps.blobs.get(input.staged.key), input.staged.encoding, {
      maxRowBytes: deps.config.cohorts.maxRowBytes,
    });
    try {
      if (source.header === undefined)
        throw new BlockingCohortError(
          'empty_header',
          'The CSV file is empty: it needs a header row and at least one data row.',
        );
      const planned = planIngest(parsed.config, source.header, agent.variables, {
        defaultCountry: agent.defaultCountry,
        maxColumns: deps.config.cohorts.maxColumns,
        maxFieldLength: deps.config.cohorts.maxFieldLength,
      });
      if (!planned.ok) throw blockingError(planned.issues);
      if ((await source.batches[Symbol.asyncIterator]().next()).done)
        throw new BlockingCohortError('no_data_rows', 'The CSV file has a header but no data row.');
    } finally {
      source.close();
    }
  } catch (error) {
    await deps.blobs.deletePrefix(blobKeys.folder(input.cohortId));
    if (error instanceof BlockingCohortError) throw asAppError(error);
    throw error;
  }
  return createCohort(deps, scope, principal, {
    cohortId: input.cohortId,
    name: input.name,
    sourceType: 'file_upload',
    transformation: input.transformationText,
    fileKey: input.staged.key,
    fileEncoding: input.staged.encoding,
    fileBytes: input.staged.bytes,
    recordCreated: input.recordCreated,
  });
}

/**
 * Accepts a cohort whose CSV Roster downloads itself (`source.type: pre_signed_url`): a URL that is
 * not http(s) or a config of the wrong shape is refused at once (422); what only the file can tell
 * (header, rows, and whether the URL is reachable and allowed) fails the cohort later, with a code.
 * The URL is stored whole because its query is the signature needed to download, and never shown.
 */
export async function acceptCohortFromUrl(
  deps: CohortDeps,
  scope: DeploymentScope,
  principal: Principal,
  input: {
    name: string | undefined;
    url: string;
    transformation: unknown;
    recordCreated?: RecordCreated<CohortView> | undefined;
  },
): Promise<CohortView> {
  await requireDeployment(deps, scope);
  const name = checkCohortName(input.name);
  const problem = urlProblem(input.url);
  if (problem !== undefined) {
    throw new AppError('validation_failed', `Request validation failed: /body/source/url ${problem}.`, [
      { field: '/body/source/url', message: problem },
    ]);
  }
  // Checked before it is serialised: a hostile nesting depth is refused (422) instead of
  // overflowing the stack in JSON.stringify.
  const parsed = parseTransformationValue(input.transformation);
  if (!parsed.ok) throw asAppError(blockingError(parsed.issues));
  const transformation = JSON.stringify(input.transformation);
  return createCohort(deps, scope, principal, {
    cohortId: newCohortId(),
    name,
    sourceType: 'pre_signed_url',
    transformation,
    fileKey: null,
    fileEncoding: null,
    fileBytes: null,
    sourceUrl: input.url,
    recordCreated: input.recordCreated,
  });
}

function urlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL';
  }
  return schemeRefusal(url);
}

async function createCohort(
  deps: CohortDeps,
  scope: DeploymentScope,
  principal: Principal,
  input: {
    cohortId: string;
    name: string;
    sourceType: 'file_upload' | 'pre_signed_url';
    transformation: string;
    fileKey: string | null;
    fileEncoding: string | null;
    fileBytes: number | null;
    sourceUrl?: string;
    recordCreated?: RecordCreated<CohortView> | undefined;
  },
): Promise<CohortView> {
  const now = nowIso();
  const row = await deps.db.transaction().execute(async (trx) => {
    const inserted = await cohorts.insertCohort(trx, {
      cohort_id: input.cohortId,
      org_id: scope.orgId,
      workspace_id: scope.workspaceId,
      deployment_id: scope.deploymentId,
      name: input.name,
      status: 'processing',
      source_type: input.sourceType,
      source_url: input.sourceUrl ?? null,
      created_by: createdBy(principal),
      created_at: now,
      updated_by: null,
      updated_at: now,
      total_records: null,
      valid_records: null,
      rejected_records: null,
      error_code: null,
      error_message: null,
      transformation: input.transformation,
      file_key: input.fileKey,
      file_encoding: input.fileEncoding,
      file_bytes: input.fileBytes,
      rejected_file_key: null,
    });
    await enqueue(trx, 'ingest_cohort', { cohortId: input.cohortId }, deps.config.jobs.maxAttempts);
    await input.recordCreated?.(trx, cohortView(inserted));
    return inserted;
  });
  deps.notifyWorkers();
  return cohortView(row);
}

export async function requireDeployment(deps: CohortDeps, scope: DeploymentScope): Promise<void> {
  await getDeployment(deps.db, scope.orgId, scope.workspaceId, scope.deploymentId);
}

export async function getCohort(
  deps: CohortDeps,
  scope: DeploymentScope,
  cohortId: string,
): Promise<cohorts.CohortRow> {
  const row = await cohorts.findCohort(deps.db, scope, cohortId);
  if (!row) throw new AppError('not_found', `Cohort '${cohortId}' not found in deployment '${scope.deploymentId}'.`);
  return row;
}

export async function listCohorts(
  deps: CohortDeps,
  scope: DeploymentScope,
  options: PageRequest & { sortBy: cohorts.CohortSortColumn; sortOrder: 'asc' | 'desc'; search?: string },
) {
  await requireDeployment(deps, scope);
  const page = await cohorts.listCohorts(deps.db, scope, options);
  const serving = await servingOf(deps, scope, page.rows);
  return { items: page.rows.map((row) => cohortView(row, serving.get(Number(row.seq)) ?? 0)), total: page.total };
}

/** Deletes a cohort and its contacts; lookups fall back to the next-latest cohort at once. */
export async function deleteCohort(deps: CohortDeps, scope: DeploymentScope, cohortId: string): Promise<void> {
  const row = await getCohort(deps, scope, cohortId);
  await deps.db.transaction().execute((trx) => cohorts.deleteCohort(trx, row.seq));
  await deps.blobs.deletePrefix(blobKeys.folder(cohortId));
}

export type CohortFileType = 'cohort' | 'rejected_records' | 'cohort_transformation';

export interface CohortFile {
  stream: Readable | string;
  contentType: string;
  filename: string;
}

/** One of a cohort's files, streamed from storage. */
export async function openCohortFile(
  deps: CohortDeps,
  scope: DeploymentScope,
  cohortId: string,
  type: CohortFileType,
): Promise<CohortFile> {
  const row = await getCohort(deps, scope, cohortId);
  if (type === 'cohort_transformation') {
    return {
      stream: row.transformation,
      contentType: 'application/json; charset=utf-8',
      filename: `${cohortId}-cohort_transformation.json`,
    };
  }
  if (await erasureRewriting(deps.db, Number(row.seq)))
    throw new AppError(
      'erasure_in_progress',
      `An erasure request is rewriting the files of cohort '${cohortId}' without the numbers it erases; download them again in a few seconds.`,
    );
  if (type === 'cohort') {
    if (!row.file_key) throw new AppError('not_found', `Cohort '${cohortId}' has no stored file.`);
    const charset = row.file_encoding === 'windows-1252' ? 'windows-1252' : (row.file_encoding ?? 'utf-8');
    return {
      stream: await openBlob(deps, row.file_key),
      contentType: `text/csv; charset=${charset}`,
      filename: `${cohortId}-cohort.csv`,
    };
  }
  if (row.status !== 'completed') {
    throw new AppError(
      'not_found',
      `Cohort '${cohortId}' is ${row.status}; its rejected records exist once it is completed.`,
    );
  }
  if (!row.rejected_file_key) throw new AppError('not_found', `Cohort '${cohortId}' has no rejection file.`);
  return {
    stream: await openBlob(deps, row.rejected_file_key),
    contentType: 'text/csv; charset=utf-8',
    filename: `${cohortId}-rejected_records.csv`,
  };
}

async function openBlob(deps: CohortDeps, key: string): Promise<Readable> {
  try {
    return await deps.blobs.get(key);
  } catch (error) {
    if (error instanceof BlobNotFoundError) throw new AppError('not_found', 'The file is no longer stored.');
    throw error;
  }
}
