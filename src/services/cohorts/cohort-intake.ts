import type { RecordCreated } from '../record-created.js';
import { assertDiskReserve } from '../../storage/disk-reserve.js';
import type { Readable } from 'node:stream';
import type { Config } from '../../config.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import {
  fieldText,
  notMultipart,
  skipFile,
  type FormSource,
  type UploadLimits,
  type UploadParts,
  uploadRefusal,
} from '../upload-parts.js';
import type { CohortDeps } from './cohort-deps.js';
import {
  acceptCohortUpload,
  checkCohortName,
  discardStagedUpload,
  newCohortId,
  requireDeployment,
  stageCohortFile,
  type CohortView,
  type StagedFile,
} from './cohort-service.js';

/** Most bytes of a transformation config file: it maps columns, it holds no data. */
const TRANSFORMATION_MAX_BYTES = 1024 * 1024;

const PARTS = ['name', 'cohort_file', 'cohort_transformation_file'];

/**
 * The multipart limits of a cohort upload: the CSV up to ROSTER_MAX_UPLOAD_BYTES and its config.
 * The API's form has exactly three parts; the console's adds its token and a few controls.
 */
export function cohortUploadLimits(config: Config, source: FormSource): UploadLimits {
  const fileSize = config.cohorts.maxUploadBytes;
  return source === 'api'
    ? { fileSize, files: 2, fields: 4, fieldSize: 4096, parts: 6, headerPairs: 200 }
    : { fileSize, files: 2, fields: 20, fieldSize: 64 * 1024, parts: 24, headerPairs: 200 };
}

/** What an upload came to: the cohort it created, or the refusal (4xx) with the name that was typed, to show the form again. */
export type CohortIntake =
  | { accepted: true; cohort: CohortView }
  | { accepted: false; refusal: AppError; name: string | undefined };

/** A cohort form as read so far. */
export interface CohortForm<F> {
  name: string | undefined;
  /** The CSV as taken: staged in object storage (an upload) or in a private temporary file (a dry run). */
  staged: F | undefined;
  transformationText: string | undefined;
  unknown: string[];
}

/** Reads an uploaded transformation config (small by nature) into a string; past `limit`, 422 invalid_transformation. */
async function readTransformationFile(file: Readable, limit = TRANSFORMATION_MAX_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of file as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      file.resume();
      throw new AppError('invalid_transformation', `The transformation file is larger than ${limit} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Checks the form is whole, in the words its source expects; answers the upload's name (a dry run
 * takes none: `nameRequired` false checks a name only when one is given).
 */
export function completeForm<F>(form: CohortForm<F>, source: FormSource, nameRequired = true): string | undefined {
  const given = source === 'browser' && form.name?.trim() === '' ? undefined : form.name;
  const checkName = () => (nameRequired || given !== undefined ? checkCohortName(given) : undefined);
  if (source === 'browser') {
    const name = checkName();
    if (!form.staged)
      throw new AppError('missing_file', 'Choose the CSV file to upload.', [
        { field: '/body/cohort_file', message: 'is required' },
      ]);
    if (form.transformationText === undefined)
      throw new AppError('missing_file', 'Choose a transformation config, or build the mapping.', [
        { field: '/body/cohort_transformation_file', message: 'is required' },
      ]);
    return name;
  }
  const problems = [
    ...form.unknown.map((field) => ({
      field: `/body/${field}`,
      message: `is not a known field; send ${PARTS.join(', ')}`,
    })),
    ...(form.staged ? [] : [{ field: '/body/cohort_file', message: 'is required (the CSV file)' }]),
    ...(form.transformationText !== undefined
      ? []
      : [{ field: '/body/cohort_transformation_file', message: 'is required (the JSON config)' }]),
  ];
  if (problems.length > 0) {
    throw new AppError(
      form.unknown.length === 0 ? 'missing_file' : 'validation_failed',
      `The upload is incomplete: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`,
      problems,
    );
  }
  return checkName();
}

export function fileTooLarge(config: Config, source: FormSource): AppError {
  const max = config.cohorts.maxUploadBytes;
  return new AppError(
    'file_too_large',
    source === 'api'
      ? `The cohort file is larger than ${max} bytes (ROSTER_MAX_UPLOAD_BYTES).`
      : `The CSV file is larger than ${max} bytes.`,
    { max_bytes: max },
  );
}

/**
 * Reads a cohort form's parts into `form` as they come: the name, the config (read whole, it is
 * small), and the CSV handed to `takeFile` as a stream. Filled as it goes, so the caller can clean up
 * what was taken whatever happens.
 */
export async function readCohortForm<F>(
  parts: UploadParts,
  source: FormSource,
  form: CohortForm<F>,
  takeFile: (file: Readable) => Promise<F>,
): Promise<void> {
  for await (const part of parts) {
    if (part.type === 'field') {
      if (part.fieldname === 'name') form.name = fieldText(part);
      else form.unknown.push(part.fieldname);
      continue;
    }
    // A browser sends an empty part for a file input left empty: that is no file.
    const chosen = source === 'api' || part.filename !== '';
    if (part.fieldname === 'cohort_file' && form.staged === undefined && chosen) {
      form.staged = await takeFile(part.file);
    } else if (part.fieldname === 'cohort_transformation_file' && form.transformationText === undefined && chosen) {
      form.transformationText = await readTransformationFile(part.file);
    } else {
      form.unknown.push(part.fieldname);
      skipFile(part);
    }
  }
}

/**
 * A cohort upload, from the multipart stream to the accepted cohort: the CSV is streamed into
 * object storage as it arrives and the config read, then both are checked (acceptCohortUpload).
 * Nothing half-made stays behind: a refusal or a failure deletes what was staged. `parts` is
 * undefined when the request was not multipart at all.
 */
export async function intakeCohortUpload(
  deps: CohortDeps,
  scope: DeploymentScope,
  principal: Principal,
  upload: { parts: UploadParts | undefined; source: FormSource; recordCreated?: RecordCreated<CohortView> | undefined },
  log: { warn(object: object, message: string): void },
): Promise<CohortIntake> {
  const { parts, source } = upload;
  if (!parts) {
    const refusal = notMultipart(source, 'name, cohort_file and cohort_transformation_file');
    return { accepted: false, refusal, name: undefined };
  }
  await requireDeployment(deps, scope);
  const cohortId = newCohortId();
  const form: CohortForm<StagedFile> = {
    name: undefined,
    staged: undefined,
    transformationText: undefined,
    unknown: [],
  };
  try {
    // Files on local disk: the staged CSV must leave room for the ingest that follows.
    if (deps.config.s3 === undefined) await assertDiskReserve(deps.config.dataDir, deps.config.diskReserveBytes);
    await readCohortForm(parts, source, form, (file) => stageCohortFile(deps, cohortId, file));
    const name = completeForm(form, source)!;
    const cohort = await acceptCohortUpload(deps, scope, principal, {
      cohortId,
      name,
      staged: form.staged!,
      transformationText: form.transformationText!,
      recordCreated: upload.recordCreated,
    });
    return { accepted: true, cohort };
  } catch (error) {
    await discardStagedUpload(deps, cohortId, log);
    const refusal = uploadRefusal(error, () => fileTooLarge(deps.config, source));
    if (!refusal) throw error;
    return { accepted: false, refusal, name: form.name };
  }
}
