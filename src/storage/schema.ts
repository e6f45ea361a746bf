import type { Generated } from 'kysely';

/** Table shapes as Kysely sees them. JSON columns hold serialised text on both backends. */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface OrgsTable {
  org_id: string;
  name: string;
  created_at: string;
}

export interface WorkspacesTable {
  org_id: string;
  workspace_id: string;
  name: string;
  created_at: string;
}

export interface UsersTable {
  user_id: string;
  org_id: string;
  email: string;
  name: string | null;
  created_at: string;
}

export interface AgentsTable {
  org_id: string;
  workspace_id: string;
  agent_id: string;
  name: string;
  variables: string;
  languages: string;
  states: string;
  created_at: string;
}

export interface DeploymentsTable {
  org_id: string;
  workspace_id: string;
  deployment_id: string;
  name: string;
  agent_id: string;
  default_country: string | null;
  created_at: string;
  /** Cohorts older than this many days are deleted by the retention run (migration 0014); null keeps them. */
  cohort_retention_days: number | null;
  /** 1: delete them even when they are the newest holder of a phone. */
  cohort_retention_strict: number;
  /** When the last retention run finished. */
  cohort_retention_last_run_at: string | null;
  /** When the next retention run is due; null without a policy. */
  cohort_retention_next_run_at: string | null;
}

export interface PhoneNumbersTable {
  phone_number_id: string;
  org_id: string;
  workspace_id: string;
  phone_number: string;
  agent_id: string;
  label: string | null;
  created_at: string;
}

export interface ApiKeysTable {
  key_id: string;
  org_id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  workspaces: string;
  created_at: string;
}

export interface Database {
  settings: SettingsTable;
  orgs: OrgsTable;
  workspaces: WorkspacesTable;
  users: UsersTable;
  agents: AgentsTable;
  deployments: DeploymentsTable;
  phone_numbers: PhoneNumbersTable;
  api_keys: ApiKeysTable;
  cohorts: CohortsTable;
  contacts: ContactsTable;
  jobs: JobsTable;
  batches: BatchesTable;
  calls: CallsTable;
  call_logs: CallLogsTable;
  dnc_numbers: DncNumbersTable;
  console_sessions: ConsoleSessionsTable;
  audit_events: AuditEventsTable;
  idempotency_keys: IdempotencyKeysTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  erasures: ErasuresTable;
  erasure_cohorts: ErasureCohortsTable;
}

export type CohortStatus = 'processing' | 'completed' | 'failed';

export interface CohortsTable {
  seq: Generated<number>;
  cohort_id: string;
  org_id: string;
  workspace_id: string;
  deployment_id: string;
  name: string;
  status: CohortStatus;
  source_type: 'file_upload' | 'pre_signed_url';
  source_url: string | null;
  created_by: string;
  created_at: string;
  updated_by: string | null;
  updated_at: string;
  total_records: number | null;
  valid_records: number | null;
  rejected_records: number | null;
  /** JSON: [{code, count, example_row}], set when the cohort completes (migration 0008). */
  rejections_by_reason: string | null;
  error_code: string | null;
  error_message: string | null;
  error_details: string | null;
  transformation: string;
  file_key: string | null;
  file_encoding: string | null;
  file_bytes: number | null;
  rejected_file_key: string | null;
  /** Progress of the running attempt (migration 0007): NULL until an attempt has started. */
  progress_started_at: string | null;
  progress_rows: number | null;
  progress_bytes: number | null;
  progress_valid: number | null;
  progress_rejected: number | null;
}

export interface ContactsTable {
  cohort_seq: number;
  row_number: number;
  phone: string;
  user_identifier: string | null;
  app_variables: string;
  app_overrides: string;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobsTable {
  job_id: string;
  kind: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: string;
  locked_by: string | null;
  locked_until: string | null;
  /** Drawn anew by each claim; every write on behalf of an attempt names it (fencing). */
  lease_token: string | null;
  /** Attempts whose process stopped without reporting (killed, crashed, lease expired). */
  lost_attempts: Generated<number>;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export type BatchStatus = 'running' | 'paused' | 'cancelled' | 'completed';

export interface BatchesTable {
  batch_id: string;
  org_id: string;
  workspace_id: string;
  agent_id: string;
  user_id: string;
  batch_name: string;
  batch_type: 'outbound' | 'mixed';
  status: BatchStatus;
  calling_numbers: string;
  enable_dnc: number;
  /** Retries after the first call (0 = call once). */
  retry: number;
  /** Seconds from the end of one attempt to the earliest next. */
  delay_seconds: number;
  timezone: string;
  calling_start: string;
  calling_end: string;
  allowed_days: string;
  total_calls: number;
  skipped_invalid: number;
  skipped_duplicate: number;
  skipped_dnc: number;
  rotation: number;
  created_at: string;
  updated_at: string;
}

export interface CallsTable {
  call_id: string;
  batch_id: string;
  row_number: number | null;
  phone: string;
  variables: string;
  timezone: string | null;
  status: string;
  attempts: number;
  next_attempt_at: string;
  lease_id: string | null;
  lease_until: string | null;
  caller_number: string | null;
  created_at: string;
  updated_at: string;
}

export interface CallLogsTable {
  log_id: string;
  call_id: string;
  attempt: number;
  call_status: string;
  call_duration: number | null;
  recording_url: string | null;
  transcript: string | null;
  caller_number: string | null;
  created_at: string;
}

export interface DncNumbersTable {
  org_id: string;
  workspace_id: string;
  phone: string;
  reason: string | null;
  created_at: string;
}

/** A web console sign-in; the cookie holds the token, the table only its hash. */
export interface ConsoleSessionsTable {
  token_hash: string;
  /** The API key signed in with; null for the master key. */
  key_id: string | null;
  is_master: number;
  /** SHA-256 of the key signed in with; the session ends when it no longer matches. */
  key_hash: string;
  created_at: string;
  expires_at: string;
}

export interface AuditEventsTable {
  seq: Generated<number>;
  event_id: string;
  occurred_at: string;
  /** The org the write concerned (its path's, else the key's); null for the master key outside any org. */
  org_id: string | null;
  workspace_id: string | null;
  actor: 'key' | 'master';
  key_id: string | null;
  user_id: string | null;
  user_email: string | null;
  via: 'api' | 'console';
  method: string;
  /** The route's pattern, e.g. /v1/orgs/:org_id/api-keys. */
  route: string;
  /** The path as requested, phone numbers masked. */
  path: string;
  resource_id: string | null;
  status: number;
  outcome: 'success' | 'failure';
  error_code: string | null;
  request_id: string;
}

/** A create's `Idempotency-Key` (migration 0012): claimed while it runs, then its answer for repeats. */
export interface IdempotencyKeysTable {
  /** The key's org; '' for the master key. */
  org_id: string;
  idempotency_key: string;
  method: string;
  /** The path and query as requested. */
  path: string;
  /** sha256 of the body (a JSON body as sent, or a form's parts); null while a form is still being read. */
  request_hash: string | null;
  /** The request handling it now; null once answered. */
  holder: string | null;
  locked_until: string | null;
  created_at: string;
  expires_at: string;
  response_status: number | null;
  /** JSON: the answer's content-type and location. */
  response_headers: string | null;
  response_body: string | null;
  /** Written with the created resource: the answer to give when the handler died before answering. */
  recovery_status: number | null;
  recovery_body: string | null;
}

/** A workspace's webhook (migration 0013). */
export interface WebhooksTable {
  webhook_id: string;
  org_id: string;
  workspace_id: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  /** Signs each delivery (HMAC-SHA256); shown once, when the webhook is created. */
  secret: string;
  created_at: string;
}

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One event's delivery to one webhook. */
export interface WebhookDeliveriesTable {
  seq: Generated<number>;
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  /** The JSON body, exactly as sent. */
  body: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  first_attempt_at: string | null;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** One POST of a delivery. */
export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

export type ErasureStatus = 'processing' | 'completed' | 'failed';

/** A right-to-erasure request (migration 0015). */
export interface ErasuresTable {
  erasure_id: string;
  org_id: string;
  workspace_id: string;
  status: ErasureStatus;
  phone_count: number;
  /** JSON array of E.164 numbers while processing; null once it has ended. */
  phone_numbers: string | null;
  contacts_removed: number;
  calls_removed: number;
  call_logs_removed: number;
  webhook_deliveries_removed: number;
  cohort_file_rows_removed: number;
  rejected_file_rows_removed: number;
  files_rewritten: number;
  /** Stored files that could not be read to their end, deleted rather than kept with a number in them. */
  files_deleted: number;
  error_message: string | null;
  requested_by: string;
  created_at: string;
  completed_at: string | null;
}

/** A cohort whose stored files an erasure still has to rewrite (done = 0), or whose replaced files it still has to delete. */
export interface ErasureCohortsTable {
  erasure_id: string;
  cohort_seq: number;
  done: number;
  /** JSON array of the blob keys the rewrite replaced, until they are deleted. */
  old_keys: string | null;
}
