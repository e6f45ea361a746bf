import type { Readable } from 'node:stream';
import { FirstPhoneRows } from '../../domain/ingest/first-phone-rows.js';
import { RejectionTally, type RejectionsByReason } from '../../domain/ingest/row-rejection.js';
import { parseTransformationText } from '../../domain/ingest/transformation-config.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { REPEAT_CODE, repeatReason, type ContactLoad, type RowRejection } from '../../storage/contact-loader.js';
import { BlockingCohortError, type CohortDeps } from './cohort-deps.js';
import { readCsvRecords, type FileEncoding } from './csv-source.js';
import { agentVariablesOf, blockingError, checkedPlanInput } from './ingest-cohort.js';
import { ingestRows } from './ingest-rows.js';
import { fileTransformer } from './row-transformer.js';

/** Rejected rows a dry run shows one by one; the rest are only counted. */
export const DRY_RUN_SHOWN_ROWS = 100;

/** A rejected row as a dry run shows it: its spreadsheet row, its fields as uploaded, why. */
export interface DryRunRejectedRow {
  row: number;
  fields: string[];
  reason: string;
  code: string;
}

/** What an upload of the file would come to, without uploading it. */
export interface DryRunResult {
  total_records: number;
  valid_records: number;
  rejected_records: number;
  rejections_by_reason: RejectionsByReason[];
  rejected_rows: DryRunRejectedRow[];
}

/**
 * Stands in for the database load: it keeps nothing but the first row of each phone (a later row
 * with the same phone is rejected as the loaders reject it), the tally by code and the first
 * rejected rows. Units arrive in file order, so rows are judged in row order as the loaders do.
 */
class DryRunLoad implements ContactLoad {
  readonly tally = new RejectionTally();
  readonly shown: DryRunRejectedRow[] = [];
  valid = 0;
  private readonly phones = new FirstPhoneRows();

  async add(unit: Parameters<ContactLoad['add']>[0]): Promise<void> {
    const rejected = new Map(unit.rejected.map((rejection) => [rejection.row, rejection]));
    const accepted = new Map(unit.accepted.map((contact) => [contact.row_number, contact]));
    for (let row = unit.firstRow; row < unit.firstRow + unit.rows.length; row++) {
      const refused = rejected.get(row);
      if (refused) {
        this.reject(refused);
        continue;
      }
      const contact = accepted.get(row);
      if (!contact) continue;
      const earlier = this.phones.firstRowOf(contact.phone, row);
      if (earlier === undefined) this.valid++;
      else
        this.reject({
          row,
          fields: unit.rows[row - unit.firstRow] ?? [],
          code: REPEAT_CODE,
          reason: repeatReason(contact.phone, earlier),
        });
    }
  }

  private reject(rejection: RowRejection): void {
    this.tally.add(rejection.code, rejection.row);
    if (this.shown.length < DRY_RUN_SHOWN_ROWS) {
      const { row, fields, reason, code } = rejection;
      this.shown.push({ row, fields, reason, code });
    }
  }

  async finish(): Promise<number> {
    return this.valid;
  }

  async abort(): Promise<void> {}
}

/**
 * Runs a CSV through every rule an upload and its ingest apply — the config, the header, each row
 * with the ingest's own transformer, repeated phones, the row limits — and answers what the cohort
 * would hold, storing nothing. The file is read as a stream, in the ingest's bounded units. A
 * blocking problem throws BlockingCohortError with the code the upload (or its cohort) would get.
 */
export async function dryRunCohortFile(
  deps: CohortDeps,
  scope: DeploymentScope,
  input: { file: Readable; bytes: number; encoding: FileEncoding; transformationText: string; signal: AbortSignal },
): Promise<DryRunResult> {
  const limits = deps.config.cohorts;
  const parsed = parseTransformationText(input.transformationText);
  if (!parsed.ok) {
    input.file.destroy();
    throw blockingError(parsed.issues);
  }
  const agent = await agentVariablesOf(deps, scope);
  const source = await readCsvRecords(input.file, input.encoding, { maxRowBytes: limits.maxRowBytes });
  try {
    const header = source.header;
    // The upload's words for these two (the ingest's differ slightly).
    if (header === undefined)
      throw new BlockingCohortError(
        'empty_header',
        'The CSV file is empty: it needs a header row and at least one data row.',
      );
    const planInput = checkedPlanInput(parsed.config, header, agent, limits);
    const load = new DryRunLoad();
    // As in ingest: a large file's rows are transformed on worker threads, so a check keeps the API's
    // event loop (and the caller lookups it serves) free.
    const { transformer, depth } = fileTransformer(planInput, input.bytes, limits.workers);
    let total: number;
    try {
      total = await ingestRows({
        load,
        cohortSeq: 0,
        batches: source.batches,
        transformer,
        unitSize: limits.batchSize,
        depth,
        maxRows: limits.maxRows,
        signal: input.signal,
      });
    } finally {
      await transformer.close();
    }
    if (total === 0) throw new BlockingCohortError('no_data_rows', 'The CSV file has a header but no data row.');
    const valid = await load.finish();
    return {
      total_records: total,
      valid_records: valid,
      rejected_records: total - valid,
      rejections_by_reason: load.tally.summary(),
      rejected_rows: load.shown,
    };
  } finally {
    source.close();
  }
}
