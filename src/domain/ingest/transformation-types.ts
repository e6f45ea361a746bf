// The transformation config's shape and the blocking issues that refuse a whole upload.
import type { FormatSpec } from './formatters.js';

/** The app_overrides keys the vendor contract allows. */
export const ALLOWED_APP_OVERRIDES = ['initial_bot_message', 'initial_state_name', 'initial_language_name'] as const;
export type AppOverrideName = (typeof ALLOWED_APP_OVERRIDES)[number];

export interface PhoneNumberMapping {
  column_name: string;
  /** ISO 3166 alpha-2, upper-cased once parsed. */
  country_code?: string;
}

export interface UserIdentifierMapping {
  column_name: string;
  required?: boolean;
}

export interface AppOverrideMapping {
  column_name: string;
  required?: boolean;
  /** Stored as-is when the cell is empty. */
  fallback_value?: string;
}

export interface AppVariableMapping extends AppOverrideMapping {
  format?: FormatSpec | FormatSpec[];
}

export interface TransformationConfig {
  phone_number: PhoneNumberMapping;
  user_identifier?: UserIdentifierMapping;
  app_variables?: Record<string, AppVariableMapping>;
  /** Keys are checked against ALLOWED_APP_OVERRIDES by planIngest, not by the shape check. */
  app_overrides?: Record<string, AppOverrideMapping>;
}

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

/** A variable as the agent declares it. */
export interface AgentVariableDecl {
  name: string;
  required: boolean;
  default: string | null;
}
