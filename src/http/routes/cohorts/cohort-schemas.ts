import { type TSchema, Type } from '@sinclair/typebox';
import { ROW_REJECTION_CODES } from '../../../domain/ingest/row-rejection.js';
import { TransformationConfigSchema } from '../../../domain/ingest/transformation-schema.js';
import { PageOf, Timestamp } from '../../schemas.js';

const REJECTION_CODES_TEXT = Object.entries(ROW_REJECTION_CODES)
  .map(([code, meaning]) => `${code}: ${meaning}`)
  .join('; ');

/** Roster's addition to the vendor's result: the rejected rows counted by the rule that refused them. */
const RejectionsByReasonSchema = Type.Union(
  [
    Type.Array(
      Type.Object({
        code: Type.String({
          description: `Why the rows were rejected, a stable code (${REJECTION_CODES_TEXT})`,
          examples: ['invalid_phone'],
        }),
        count: Type.Integer({ minimum: 1, description: 'How many rows were rejected with this code' }),
        example_row: Type.Integer({
          minimum: 2,
          description: 'The spreadsheet row (the header is row 1) of the first row rejected with this code',
        }),
      }),
    ),
    Type.Null(),
  ],
  {
    description:
      'Rejected rows by code, the most frequent first (then by code); [] when none was rejected. The counts add up to rejected_records. null only for a cohort completed with rejections before Roster counted them.',
  },
);

const Count = (description: string) => Type.Integer({ minimum: 0, description });

export const CohortProgressSchema = Type.Object(
  {
    rows_processed: Count('Data rows written so far'),
    bytes_processed: Count('Bytes of the file read so far (reading runs a little ahead of the rows)'),
    bytes_total: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
      description: "The file's size in bytes; null while a URL cohort's file is not yet downloaded",
    }),
    valid_so_far: Count(
      'Rows kept so far; a phone that repeats an earlier row is rejected only at the end, so result.valid_records may be lower',
    ),
    rejected_so_far: Count('Rows rejected so far (repeated phones are counted at the end)'),
    started_at: Type.String({
      format: 'date-time',
      description: 'When this attempt started (ISO 8601, UTC); a retried attempt starts again from 0',
    }),
  },
  {
    title: 'CohortProgress',
    description:
      "Roster's addition to the vendor's shape: present only while an attempt is processing the cohort, updated at least every second or 10,000 rows; absent when the cohort is completed or failed, and while it waits for its first attempt",
  },
);

export const CohortSchema = Type.Object(
  {
    name: Type.String({ examples: ['April Users Batch 1'] }),
    cohort_id: Type.String({ examples: ['coh-pjd0f97m39ir'] }),
    status: Type.Union([Type.Literal('processing'), Type.Literal('completed'), Type.Literal('failed')]),
    source_type: Type.Union([Type.Literal('file_upload'), Type.Literal('pre_signed_url')]),
    result: Type.Union([
      Type.Object({
        total_records: Type.Integer(),
        valid_records: Type.Integer(),
        rejected_records: Type.Integer(),
        rejections_by_reason: RejectionsByReasonSchema,
      }),
      Type.Null(),
    ]),
    created_by: Type.String({ examples: ['demo'] }),
    created_at: Timestamp,
    updated_by: Type.Union([Type.String(), Type.Null()], { examples: [null] }),
    updated_at: Timestamp,
    error: Type.Optional(
      Type.Object(
        { code: Type.String(), message: Type.String(), details: Type.Unknown() },
        { description: 'Only on a failed cohort: why, with a stable code' },
      ),
    ),
    progress: Type.Optional(CohortProgressSchema),
    serving_phones: Type.Integer({
      minimum: 0,
      examples: [1250],
      description:
        "Roster's addition (live marker): how many of this cohort's phones caller lookups answer from it now, i.e. its phones that no later-uploaded completed cohort of the deployment holds (the lookup's latest-wins rule). 0 for a processing or failed cohort.",
    }),
    is_live: Type.Boolean({
      description:
        "Roster's addition (live marker): true when serving_phones > 0, i.e. lookups answer from this cohort for at least one phone. Only a completed cohort can be live.",
    }),
  },
  { title: 'Cohort' },
);

export const CohortPageSchema = PageOf(CohortSchema);

/** `POST …/cohorts/validate`: what an upload of the file would come to, nothing stored. */
export const CohortDryRunSchema = Type.Object(
  {
    total_records: Count('Data rows in the file (the header is not counted)'),
    valid_records: Count('Rows an upload would keep as contacts'),
    rejected_records: Count('Rows an upload would reject, repeated phones included'),
    rejections_by_reason: Type.Array(
      Type.Object({
        code: Type.String({ description: `A row rejection code (${REJECTION_CODES_TEXT})` }),
        count: Type.Integer({ minimum: 1 }),
        example_row: Type.Integer({ minimum: 2, description: 'The spreadsheet row of the first row with this code' }),
      }),
      {
        description:
          "The rejected rows by code, the most frequent first (then by code), exactly as the cohort's result.rejections_by_reason would be; [] when none",
      },
    ),
    rejected_rows: Type.Array(
      Type.Object({
        row: Type.Integer({ minimum: 2, description: 'Spreadsheet row (the header is row 1)' }),
        fields: Type.Array(Type.String(), { description: 'The row as uploaded' }),
        reason: Type.String({ description: "The rejection file's rejected_reason" }),
        code: Type.String({ description: 'The row rejection code' }),
      }),
      { description: 'The first 100 rejected rows, in row order' },
    ),
  },
  {
    title: 'CohortDryRun',
    description: "Roster's addition: the counts a cohort of this file would get, computed without storing anything",
  },
);

// Examples are the demo tenant's ids (created at first start), so "Try it out" works as shown.
const OrgId = Type.String({ examples: ['demo'] });
const WorkspaceId = Type.String({ examples: ['default'] });
const DeploymentId = Type.String({ examples: ['demo'] });
const CohortId = Type.String({ examples: ['coh-pjd0f97m39ir'] });

export const DeploymentParams = Type.Object({
  org_id: OrgId,
  workspace_id: WorkspaceId,
  deployment_id: DeploymentId,
});
export const CohortParams = Type.Object({
  org_id: OrgId,
  workspace_id: WorkspaceId,
  deployment_id: DeploymentId,
  cohort_id: CohortId,
});

export const ListCohortsQuery = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    sort_by: Type.Union([Type.Literal('created_at'), Type.Literal('name'), Type.Literal('status')], {
      default: 'created_at',
    }),
    sort_order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
    search: Type.Optional(Type.String({ maxLength: 100, description: 'Case-insensitive substring of the name' })),
  },
  { additionalProperties: false },
);

export const FilesQuery = Type.Object(
  {
    file_type: Type.Union([
      Type.Literal('cohort'),
      Type.Literal('rejected_records'),
      Type.Literal('cohort_transformation'),
    ]),
  },
  { additionalProperties: false },
);

/**
 * `POST …/cohorts`: a cohort from a CSV Roster downloads itself. The route validates the body with
 * an open `cohort_transformation` so that a config of the wrong shape is refused by the config
 * reader, with the same 422 invalid_transformation and messages as an upload's config file; the
 * OpenAPI document shows the config's schema (CreateFromUrlBodyDoc).
 */
const CohortNameField = Type.String({
  description: 'Cohort name: 1–50 letters, digits, spaces, _ or - (as for uploads)',
  examples: ['April Users Batch 1'],
});
const fromUrlBody = <T extends TSchema, N extends TSchema>(transformation: T, name: N) =>
  Type.Object(
    {
      name,
      source: Type.Object(
        {
          type: Type.Literal('pre_signed_url'),
          url: Type.String({
            format: 'uri',
            maxLength: 4096,
            description:
              'http(s) URL of the CSV, e.g. a pre-signed S3, GCS or Azure link. It must resolve to a public address (at most 3 redirects); it is stored to download the file and never shown again.',
          }),
        },
        { additionalProperties: false },
      ),
      cohort_transformation: transformation,
    },
    { additionalProperties: false, title: 'CohortFromUrl' },
  );

const TRANSFORMATION_DESCRIPTION =
  "The transformation config: the same JSON an upload's cohort_transformation_file holds";
const OpenTransformation = Type.Object({}, { additionalProperties: true, description: TRANSFORMATION_DESCRIPTION });
const DocumentedTransformation = { ...TransformationConfigSchema, description: TRANSFORMATION_DESCRIPTION };
export const CreateFromUrlBody = fromUrlBody(OpenTransformation, CohortNameField);
export const CreateFromUrlBodyDoc = fromUrlBody(DocumentedTransformation, CohortNameField);
/** The dry run's JSON body: POST /'s, with the name optional (checked by the upload rule when given). */
export const ValidateFromUrlBody = fromUrlBody(OpenTransformation, Type.Optional(CohortNameField));
export const ValidateFromUrlBodyDoc = fromUrlBody(DocumentedTransformation, Type.Optional(CohortNameField));

const Scalar = Type.Union([Type.String({ maxLength: 131_072 }), Type.Number(), Type.Boolean()]);
const VariableMap = (description: string) =>
  Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Scalar, { description, maxProperties: 200 });

export const StreamUsersBody = Type.Object(
  {
    name: Type.String({ maxLength: 50, description: 'Cohort name (same rule as uploads)' }),
    users: Type.Array(
      Type.Object(
        {
          user_phone_number: Type.String({
            minLength: 1,
            maxLength: 64,
            description: 'Any format; national numbers use the deployment default_country',
          }),
          user_identifier: Type.Optional(Type.String({ maxLength: 1000 })),
          app_variables: Type.Optional(VariableMap("Values for the agent's declared variables")),
          app_overrides: Type.Optional(VariableMap('initial_bot_message, initial_state_name, initial_language_name')),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);

/** Documents the dry run's multipart body: the upload's, with the name optional (checked when given). */
export const ValidateBodyDoc = {
  type: 'object',
  required: ['cohort_file', 'cohort_transformation_file'],
  properties: {
    name: {
      type: 'string',
      maxLength: 50,
      pattern: '^[\\w\\- ]{1,50}$',
      description: 'Optional: checked by the upload rule when given',
    },
    cohort_file: { type: 'string', format: 'binary', description: 'The CSV, as for an upload' },
    cohort_transformation_file: {
      type: 'string',
      format: 'binary',
      description: 'JSON transformation config, as for an upload',
      contentMediaType: 'application/json',
      contentSchema: TransformationConfigSchema,
    },
  },
} as const;

/** Documents the multipart body for OpenAPI; the route reads the parts as a stream, not through this schema. */
export const UploadBodyDoc = {
  type: 'object',
  required: ['name', 'cohort_file', 'cohort_transformation_file'],
  properties: {
    name: { type: 'string', maxLength: 50, pattern: '^[\\w\\- ]{1,50}$', description: 'Cohort name (1–50 characters)' },
    cohort_file: {
      type: 'string',
      format: 'binary',
      description:
        'CSV with a header row: UTF-8 (BOM or not), UTF-16 with BOM, or Windows-1252; , ; tab or | delimited',
    },
    cohort_transformation_file: {
      type: 'string',
      format: 'binary',
      description: 'JSON transformation config (UTF-8, a BOM allowed; at most 1 MiB)',
      contentMediaType: 'application/json',
      contentSchema: TransformationConfigSchema,
    },
  },
} as const;

/** Documents the mapping suggestion's multipart body; only the first 64 KB of cohort_file are read. */
export const MappingSuggestionBodyDoc = {
  type: 'object',
  required: ['cohort_file'],
  properties: {
    cohort_file: {
      type: 'string',
      format: 'binary',
      description:
        'The CSV (or only its first bytes): its header row is read from the first 64 KB, the rest is never read',
    },
  },
} as const;

export const MappingSuggestionSchema = Type.Object(
  {
    columns: Type.Array(Type.String(), { description: "The CSV header's column names, in file order" }),
    suggestion: Type.Unsafe<Record<string, unknown>>({
      ...TransformationConfigSchema,
      title: undefined,
      description:
        "A TransformationConfig mapping only what matched by name: phone_number from a phone-like column (phone_number, phone, mobile, mobile_number, msisdn, phone_no, mobile_no, cell, cell_phone, telephone, tel, contact_number, user_phone_number), each agent variable from the column named like it. Names match after ignoring case, spaces, '_' and '-'. No column is ever chosen by position: phone_number.column_name is '' when no column looks like a phone number, and unmatched variables are absent, so the config is refused until they are chosen.",
    }),
    matched: Type.Array(
      Type.Object({
        variable: Type.String({ description: 'An agent variable, or phone_number' }),
        column: Type.String(),
        by: Type.Literal('name'),
      }),
    ),
    unmapped_required: Type.Array(Type.String(), {
      description:
        'Required agent variables (and phone_number) no column matched: choose their columns before uploading',
    }),
  },
  { title: 'MappingSuggestion' },
);
