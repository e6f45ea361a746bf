import type { RecordCreated } from '../record-created.js';
import { assertDiskReserve } from '../../storage/disk-reserve.js';
import type { Config } from '../../config.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import { notMultipart, uploadRefusal, type FormSource, type UploadLimits, type UploadParts } from '../upload-parts.js';
import type { BatchDeps } from './batch-deps.js';
import { BATCH_FIELDS, parseBatchFields, type BatchFieldName, type BatchFields } from './batch-fields.js';
import { createBatchFromFile, type BatchUploadResult } from './batch-upload-service.js';
import { emptySheetForm, lastValue, readSheetForm, type SheetForm } from './upload-file.js';

/** The console form's one-value controls; its lists (callingNumbers, allowedDays) and the window's ends come apart. */
const BROWSER_FIELDS = ['userId', 'batchName', 'batchType', 'enableDNC', 'type', 'retry', 'delay', 'timezone'] as const;
const BROWSER_CONTROLS: readonly string[] = [
  ...BROWSER_FIELDS,
  'callingNumbers',
  'allowedDays',
  'callingStart',
  'callingEnd',
];

/** The multipart limits of a batch upload: one sheet up to ROSTER_BATCH_MAX_BYTES and the vendor's fields. */
export function batchUploadLimits(config: Config, source: FormSource): UploadLimits {
  const fileSize = config.batches.maxBytes;
  return source === 'api'
    ? { fileSize, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 24 }
    : { fileSize, files: 2, fields: 20, fieldSize: 64 * 1024, parts: 24, headerPairs: 200 };
}

/** What an upload came to: the batch it created, or the refusal (4xx) with the console form's values, to show it again. */
export type BatchIntake =
  | { accepted: true; batch: BatchUploadResult }
  | { accepted: false; refusal: AppError; values: BatchFormValues };

/** The vendor's form: every part must be one of its fields or the file. */
function apiFields(form: SheetForm): BatchFields {
  if (form.unknown.length > 0) {
    throw new AppError(
      'invalid_batch_field',
      `Unknown fields: ${form.unknown.join(', ')}. The form takes file, ${BATCH_FIELDS.join(', ')}.`,
      form.unknown.map((field) => ({ field, message: 'is not a known field' })),
    );
  }
  if (!form.file)
    throw new AppError('invalid_batch_field', 'file is required: attach the contacts as a .csv, .xlsx or .xls file.', [
      { field: 'file', message: 'is required' },
    ]);
  if (form.file.bytes === 0) throw new AppError('empty_file', `'${form.filename}' is empty.`);
  const raw: Partial<Record<BatchFieldName, string>> = {};
  for (const name of BATCH_FIELDS) {
    const value = lastValue(form, name);
    if (value !== undefined) raw[name] = value;
  }
  return parseBatchFields(raw);
}

/** The console form's values by control, as sent: the vendor's fields are built from them, and a refused form is filled with them again. */
export interface BatchFormValues {
  fields: Partial<Record<BatchFieldName, string>>;
  callingNumbers: string[];
  days: string[];
  start: string;
  end: string;
}

function formValuesOf(form: SheetForm): BatchFormValues {
  const fields: Partial<Record<BatchFieldName, string>> = {};
  for (const name of BROWSER_FIELDS) {
    const value = lastValue(form, name);
    if (value !== undefined) fields[name] = value;
  }
  return {
    fields,
    callingNumbers: form.fields.get('callingNumbers') ?? [],
    days: form.fields.get('allowedDays') ?? [],
    start: lastValue(form, 'callingStart') ?? '',
    end: lastValue(form, 'callingEnd') ?? '',
  };
}

/** The console's form: checkboxes, time inputs and one checkbox per calling number, put into the vendor's fields. */
function browserFields(form: SheetForm): BatchFields {
  const values = formValuesOf(form);
  const raw: Partial<Record<BatchFieldName, string>> = {
    ...values.fields,
    enableDNC: values.fields.enableDNC === 'true' ? 'true' : 'false',
    type: values.fields.type === 'true' ? 'true' : 'false',
    callingNumbers: values.callingNumbers.length > 0 ? JSON.stringify(values.callingNumbers) : '',
    callingHour: JSON.stringify({ start: values.start, end: values.end }),
    allowedDays: JSON.stringify(values.days.map(Number)),
  };
  if (values.days.length === 0)
    throw new AppError('invalid_batch_field', 'Pick at least one day.', [
      { field: 'allowedDays', message: 'Pick at least one day.' },
    ]);
  const fields = parseBatchFields(raw);
  if (!form.file)
    throw new AppError('invalid_batch_field', 'Choose the contacts file.', [
      { field: 'file', message: 'Choose a .csv, .xlsx or .xls file.' },
    ]);
  if (form.file.bytes === 0) throw new AppError('empty_file', `'${form.filename}' is empty.`);
  return fields;
}

function fileTooLarge(config: Config, source: FormSource): AppError {
  const max = config.batches.maxBytes;
  return new AppError(
    'file_too_large',
    source === 'api'
      ? `The file is larger than ${max} bytes (ROSTER_BATCH_MAX_BYTES).`
      : `The file is larger than ${max} bytes.`,
  );
}

/**
 * A batch upload, from the multipart stream to the created batch: the sheet is streamed to a
 * temporary file (spreadsheet readers need a path), the fields checked, every row read
 * (createBatchFromFile). The temporary file is removed whatever happens. `parts` is undefined when
 * the request was not multipart at all.
 */
export async function intakeBatchUpload(
  deps: BatchDeps,
  principal: Principal,
  upload: {
    parts: UploadParts | undefined;
    source: FormSource;
    dataDir: string;
    recordCreated?: RecordCreated<BatchUploadResult> | undefined;
  },
): Promise<BatchIntake> {
  const { parts, source } = upload;
  const form = emptySheetForm();
  if (!parts)
    return {
      accepted: false,
      refusal: notMultipart(source, 'a file and the batch fields'),
      values: formValuesOf(form),
    };
  try {
    await assertDiskReserve(upload.dataDir, deps.config.diskReserveBytes);
    await readSheetForm(
      upload.dataDir,
      parts,
      source === 'api'
        ? {
            takesField: (name) => (BATCH_FIELDS as readonly string[]).includes(name),
            isSheet: (part) => part.fieldname === 'file',
          }
        : {
            takesField: (name) => BROWSER_CONTROLS.includes(name),
            // A browser sends an empty part for a file input left empty: that is no file.
            isSheet: (part) => part.fieldname === 'file' && part.filename !== '',
          },
      form,
    );
    const fields = source === 'api' ? apiFields(form) : browserFields(form);
    const batch = await createBatchFromFile(
      deps,
      principal,
      fields,
      {
        path: form.file!.path,
        filename: form.filename,
      },
      upload.recordCreated,
    );
    return { accepted: true, batch };
  } catch (error) {
    const refusal = uploadRefusal(error, () => fileTooLarge(deps.config, source));
    if (!refusal) throw error;
    return { accepted: false, refusal, values: formValuesOf(form) };
  } finally {
    await form.file?.remove();
  }
}
