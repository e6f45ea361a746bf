// What refuses a whole upload: a config or header problem, before any row is read.

export type BlockingCode =
  | 'invalid_transformation'
  | 'column_not_found'
  | 'unknown_app_variable'
  | 'unknown_app_override'
  | 'required_variable_not_mapped'
  | 'duplicate_header'
  | 'empty_header'
  | 'too_many_columns';

/** One reason to refuse the whole upload; `details` is JSON data for the error envelope. */
export interface BlockingIssue {
  code: BlockingCode;
  message: string;
  details?: unknown;
}
