import { assertDiskReserve } from '../../storage/disk-reserve.js';
import type { Config } from '../../config.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import { notMultipart, type UploadLimits, type UploadParts } from '../upload-parts.js';
import type { BatchDeps } from './batch-deps.js';
import { dncScope, importDncFile } from './dnc-service.js';
import { emptySheetForm, lastValue, readSheetForm } from './upload-file.js';

const DNC_FIELDS: readonly string[] = ['workspace_id', 'org_id', 'country', 'reason'];

/** The multipart limits of a do-not-call upload: one sheet, at most as large as a batch's. */
export function dncUploadLimits(config: Config): UploadLimits {
  return { fileSize: config.batches.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 24 };
}

export interface DncImport {
  added: number;
  alreadyListed: number;
  /** The values that are no phone number (the first 1000), with why. */
  invalid: Array<{ value: string; reason: string }>;
}

/**
 * A do-not-call upload, from the multipart stream to the numbers added: the sheet (its
 * phoneNumber column, else its first) is streamed to a temporary file that is removed whatever
 * happens. A file over the limit is the generic 413 payload_too_large. `parts` is undefined when
 * the request was not multipart at all.
 */
export async function intakeDncUpload(
  deps: BatchDeps,
  principal: Principal,
  upload: { parts: UploadParts | undefined; dataDir: string },
): Promise<DncImport> {
  if (!upload.parts) throw notMultipart('api', 'a file');
  const form = emptySheetForm();
  try {
    await assertDiskReserve(upload.dataDir, deps.config.diskReserveBytes);
    // Any file part is the list; the limits let only one through.
    await readSheetForm(
      upload.dataDir,
      upload.parts,
      { takesField: (name) => DNC_FIELDS.includes(name), isSheet: () => true },
      form,
    );
    const unknown = form.unknown[0];
    if (unknown !== undefined)
      throw new AppError(
        'invalid_batch_field',
        `Unknown field ${unknown}; send file, workspace_id, org_id, country, reason.`,
        [{ field: unknown, message: 'is not a known field' }],
      );
    if (!form.file)
      throw new AppError('invalid_batch_field', 'file is required.', [{ field: 'file', message: 'is required' }]);
    const scope = await dncScope(deps, principal, {
      org_id: lastValue(form, 'org_id'),
      workspace_id: lastValue(form, 'workspace_id'),
    });
    return await importDncFile(
      deps,
      scope,
      { path: form.file.path, filename: form.filename },
      lastValue(form, 'country')?.toUpperCase(),
      lastValue(form, 'reason') ?? null,
    );
  } finally {
    await form.file?.remove();
  }
}
