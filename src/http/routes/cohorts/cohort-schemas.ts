import { Type } from '@sinclair/typebox';
import { PageOf, Timestamp } from '../../schemas.js';

export const CohortSchema = Type.Object(
  {
    name: Type.String(),
    cohort_id: Type.String({ examples: ['coh-x1y2z3'] }),
    status: Type.Union([Type.Literal('processing'), Type.Literal('completed'), Type.Literal('failed')]),
    source_type: Type.Union([Type.Literal('file_upload'), Type.Literal('pre_signed_url')]),
    result: Type.Union([
      Type.Object({ total_records: Type.Integer(), valid_records: Type.Integer(), rejected_records: Type.Integer() }),
      Type.Null(),
    ]),
    created_by: Type.String(),
    created_at: Timestamp,
    updated_by: Type.Union([Type.String(), Type.Null()]),
    updated_at: Timestamp,
    error: Type.Optional(
      Type.Object(
        { code: Type.String(), message: Type.String(), details: Type.Unknown() },
        { description: 'Only on a failed cohort: why, with a stable code' },
      ),
    ),
  },
  { title: 'Cohort' },
);

export const CohortPageSchema = PageOf(CohortSchema);

export const DeploymentParams = Type.Object({ org_id: Type.String(), workspace_id: Type.String(), deployment_id: Type.String() });
export const CohortParams = Type.Object({ org_id: Type.String(), workspace_id: Type.String(), deployment_id: Type.String(), cohort_id: Type.String() });

export const ListCohortsQuery = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    sort_by: Type.Union([Type.Literal('created_at'), Type.Literal('name'), Type.Literal('status')], { default: 'created_at' }),
    sort_order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
    search: Type.Optional(Type.String({ maxLength: 100, description: 'Case-insensitive substring of the name' })),
  },
  { additionalProperties: false },
);

export const FilesQuery = Type.Object(
  { file_type: Type.Union([Type.Literal('cohort'), Type.Literal('rejected_records'), Type.Literal('cohort_transformation')]) },
  { additionalProperties: false },
);

/** `POST …/cohorts`: a cohort from a CSV Roster downloads itself. */
export const CreateFromUrlBody = Type.Object(
  {
    name: Type.String({ description: 'Cohort name: 1–50 letters, digits, spaces, _ or - (as for uploads)', examples: ['April Users Batch 1'] }),
    source: Type.Object(
      {
        type: Type.Literal('pre_signed_url'),
        url: Type.String({
          format: 'uri',
          maxLength: 4096,
          description: 'http(s) URL of the CSV, e.g. a pre-signed S3, GCS or Azure link. It must resolve to a public address (at most 3 redirects); it is stored to download the file and never shown again.',
        }),
      },
      { additionalProperties: false },
    ),
    cohort_transformation: Type.Object({}, { additionalProperties: true, description: "The transformation config: the same JSON an upload's cohort_transformation_file holds" }),
  },
  { additionalProperties: false, title: 'CohortFromUrl' },
);

const Scalar = Type.Union([Type.String({ maxLength: 131_072 }), Type.Number(), Type.Boolean()]);
const VariableMap = (description: string) =>
  Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Scalar, { description, maxProperties: 200 });

export const StreamUsersBody = Type.Object(
  {
    name: Type.String({ maxLength: 50, description: 'Cohort name (same rule as uploads)' }),
    users: Type.Array(
      Type.Object(
        {
          user_phone_number: Type.String({ minLength: 1, maxLength: 64, description: 'Any format; national numbers use the deployment default_country' }),
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

/** Documents the multipart body for OpenAPI; the route reads the parts as a stream, not through this schema. */
export const UploadBodyDoc = {
  type: 'object',
  required: ['name', 'cohort_file', 'cohort_transformation_file'],
  properties: {
    name: { type: 'string', maxLength: 50, pattern: '^[\\w\\- ]{1,50}$', description: 'Cohort name (1–50 characters)' },
    cohort_file: { type: 'string', format: 'binary', description: 'CSV with a header row: UTF-8 (BOM or not), UTF-16 with BOM, or Windows-1252; , ; tab or | delimited' },
    cohort_transformation_file: { type: 'string', format: 'binary', description: 'JSON transformation config' },
  },
} as const;
