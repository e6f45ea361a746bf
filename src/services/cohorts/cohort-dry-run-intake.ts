import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { AppError } from '../../errors.js';
import { assertDiskReserve } from '../../storage/disk-reserve.js';
import { saveUpload, type SavedUpload } from '../batches/upload-file.js';
import { notMultipart, type FormSource, type UploadParts, uploadRefusal } from '../upload-parts.js';
import type { CohortDeps } from './cohort-deps.js';
import { dryRunCohortFile, type DryRunResult } from './cohort-dry-run.js';
import { completeForm, fileTooLarge, readCohortForm, type CohortForm } from './cohort-intake.js';
import { asAppError, requireDeployment } from './cohort-service.js';
import { BlockingCohortError } from './cohort-deps.js';
import { EncodingSniffer, type FileEncoding } from './csv-source.js';
import { downloadTo, TransientDownloadError } from './url-source.js';

/** What a dry run came to: the counts, or the refusal (4xx) an upload of the same form would get. */
export type CohortDryRunIntake = { checked: true; result: DryRunResult } | { checked: false; refusal: AppError };

interface HeldFile {
  saved: SavedUpload;
  encoding: FileEncoding;
}

/** Streams the CSV part to a private temporary file, noting its encoding as an upload does. */
async function holdFile(dataDir: string, file: Readable): Promise<HeldFile> {
  const sniffer = new EncodingSniffer();
  // pipeline() passes a failed part (over the size limit, cut off) on to the file, which is then removed.
  pipeline(file, sniffer, () => undefined);
  const saved = await saveUpload(dataDir, sniffer, 'cohort.csv');
  return { saved, encoding: sniffer.encoding };
}

/**
 * A dry run of a cohort upload (POST …/cohorts/validate): the same form and the same refusals as
 * /upload, then every row rule of the ingest, storing nothing. The CSV goes to a private temporary
 * file in `<dataDir>/uploads-tmp` (never object storage, never memory), because the form's parts
 * may come in any order (the config may follow the CSV) and the encoding is known only once the
 * whole file has been seen; the file is removed before the answer, whatever it is (a process killed
 * meanwhile leaves it to the start-up sweep, its name saying whose it was).
 */
export async function intakeCohortDryRun(
  deps: CohortDeps,
  scope: DeploymentScope,
  upload: { parts: UploadParts | undefined; source: FormSource; signal: AbortSignal },
): Promise<CohortDryRunIntake> {
  const { parts, source } = upload;
  if (!parts) return { checked: false, refusal: notMultipart(source, 'cohort_file and cohort_transformation_file') };
  return checkHeldFile(deps, scope, source, upload.signal, async (keep) => {
    const form: CohortForm<HeldFile> = {
      name: undefined,
      staged: undefined,
      transformationText: undefined,
      unknown: [],
    };
    await readCohortForm(parts, source, form, async (file) => {
      const held = await holdFile(deps.config.dataDir, file);
      keep(held.saved);
      return held;
    });
    completeForm(form, source, false);
    return { file: form.staged!, transformationText: form.transformationText! };
  });
}

/**
 * A dry run of a cohort from a hosted CSV (POST …/cohorts/validate with POST /'s JSON body): the
 * file is downloaded now, under a cohort's rules (public addresses, 3 redirects, size, timeout), to
 * a private temporary file, then checked as an uploaded one. A download a cohort's job would retry
 * (a timeout, a reset, a 5xx) cannot wait here: it is refused as source_download_failed.
 */
export async function intakeCohortDryRunFromUrl(
  deps: CohortDeps,
  scope: DeploymentScope,
  request: { url: string; transformation: unknown; signal: AbortSignal },
): Promise<CohortDryRunIntake> {
  const downloadRefusal = (error: unknown) =>
    error instanceof TransientDownloadError && !request.signal.aborted
      ? new AppError('source_download_failed', `${error.problem}; try again later.`)
      : undefined;
  return checkHeldFile(
    deps,
    scope,
    'api',
    request.signal,
    async (keep) => {
      const { stored, encoding } = await downloadTo(
        deps,
        request.url,
        (body) => saveUpload(deps.config.dataDir, body, 'cohort.csv'),
        request.signal,
      );
      keep(stored);
      return { file: { saved: stored, encoding }, transformationText: JSON.stringify(request.transformation) };
    },
    downloadRefusal,
  );
}

/**
 * What both dry runs share: the deployment must exist and the disk have its reserve; `hold` puts the
 * file in a private temporary file (passing each one it makes to `keep`), which is checked with the
 * ingest's rules and removed before the answer, whatever it is. A refusal is the one an upload of the
 * same file gets (`refusalOf` first, for the refusals of one kind of source).
 */
async function checkHeldFile(
  deps: CohortDeps,
  scope: DeploymentScope,
  source: FormSource,
  signal: AbortSignal,
  hold: (keep: (saved: SavedUpload) => void) => Promise<{ file: HeldFile; transformationText: string }>,
  refusalOf: (error: unknown) => AppError | undefined = () => undefined,
): Promise<CohortDryRunIntake> {
  await requireDeployment(deps, scope);
  const held: SavedUpload[] = [];
  try {
    await assertDiskReserve(deps.config.dataDir, deps.config.diskReserveBytes);
    const { file, transformationText } = await hold((saved) => held.push(saved));
    const result = await dryRunCohortFile(deps, scope, {
      file: createReadStream(file.saved.path, { highWaterMark: 256 * 1024 }),
      bytes: file.saved.bytes,
      encoding: file.encoding,
      transformationText,
      signal,
    });
    return { checked: true, result };
  } catch (error) {
    const refusal =
      refusalOf(error) ??
      uploadRefusal(error instanceof BlockingCohortError ? asAppError(error) : error, () =>
        fileTooLarge(deps.config, source),
      );
    if (!refusal) throw error;
    return { checked: false, refusal };
  } finally {
    for (const saved of held) await saved.remove().catch(() => undefined);
  }
}
