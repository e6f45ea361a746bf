// `roster cohorts validate`: a dry run of an upload, read on a terminal or as JSON.
import type { Command } from 'commander';
import { formatCount } from '../../domain/ingest/progress-text.js';
import { fileSize, uploadForm } from '../file-upload.js';
import { type Column, field, type Item, printJson, renderTable } from '../output.js';
import { type CohortResult, EXIT_ROWS_REJECTED, rejectionLines } from './cohort-outcome.js';
import { type DeploymentOptions, deploymentPath } from './deployment-scope.js';

export interface ValidateOptions extends DeploymentOptions {
  name?: string;
  file: string;
  config: string;
}

/** What `POST …/cohorts/validate` answers: the counts a cohort of the file would get, and the first rejected rows. */
interface DryRun extends CohortResult {
  rejected_rows: Array<{ row: number; fields: string[]; reason: string; code: string }>;
}

const REJECTED_ROW_COLUMNS: Column[] = [field('row'), field('code'), field('reason')];

/** `cohorts validate`: a dry run of an upload; exit 0 when no row would be rejected, 3 when any would. */
export async function validate(options: ValidateOptions, command: Command): Promise<void> {
  const bytes = (await fileSize(options.file, '--file')) + (await fileSize(options.config, '--config'));
  const parts = [
    ...(options.name === undefined ? [] : [{ name: 'name', value: options.name }]),
    { name: 'cohort_transformation_file', file: options.config, contentType: 'application/json' },
    { name: 'cohort_file', file: options.file, contentType: 'text/csv' },
  ];
  const result = await uploadForm<DryRun>(command, options, `${deploymentPath(options)}/cohorts/validate`, parts, {
    shown: options.file,
    bytes,
  });
  if (options.json) printJson(result);
  else {
    const lines = [
      `${options.file} checked; nothing was uploaded`,
      `total:    ${formatCount(result.total_records)}`,
      `valid:    ${formatCount(result.valid_records)}`,
      `rejected: ${formatCount(result.rejected_records)}`,
    ];
    const byReason = rejectionLines(result);
    if (byReason.length > 0) lines.push('', ...byReason);
    if (result.rejected_rows.length > 0) {
      const shown = result.rejected_rows.length;
      lines.push(
        '',
        shown < result.rejected_records
          ? `The first ${shown} rejected rows:`
          : `The rejected row${shown === 1 ? '' : 's'}:`,
        ...renderTable(result.rejected_rows as unknown as Item[], REJECTED_ROW_COLUMNS)
          .trimEnd()
          .split('\n')
          .map((line) => `  ${line}`),
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (result.rejected_records > 0) {
    process.stderr.write(`error: ${result.rejected_records} of ${result.total_records} rows would be rejected\n`);
    process.exitCode = EXIT_ROWS_REJECTED;
  }
}
