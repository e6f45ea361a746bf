import { type TSchema, Type } from '@sinclair/typebox';
import { HEX24_PATTERN } from '../../../domain/tenancy/ids.js';
import { MAX_DETAILS_LIMIT } from '../../../services/batches/batch-service.js';
import { Timestamp } from '../../schemas.js';

export const BatchSummarySchema = Type.Object(
  {
    _id: Type.String(),
    batchName: Type.String(),
    batchType: Type.String(),
    batchStatus: Type.String({ description: 'running, paused, cancelled or completed' }),
    agentId: Type.String(),
    userId: Type.String(),
    callingNumbers: Type.Array(Type.String()),
    totalCalls: Type.Integer(),
    enableDNC: Type.Boolean(),
    retry: Type.Integer({ description: 'Retries after the first call (0 = call once)' }),
    delay: Type.Integer({ description: 'Seconds between attempts' }),
    timezone: Type.String(),
    callingHour: Type.Object({ start: Type.String(), end: Type.String() }),
    allowedDays: Type.Array(Type.Integer()),
    skipped: Type.Object({ invalid: Type.Integer(), duplicate: Type.Integer(), dnc: Type.Integer() }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'BatchSummary' },
);

export const BatchUploadResponse = Type.Object(
  {
    success: Type.Literal(true),
    batch: Type.Object({
      _id: Type.String(),
      batchName: Type.String(),
      callingNumbers: Type.Array(Type.String()),
      totalCalls: Type.Integer(),
    }),
    skipped: Type.Object(
      { invalid: Type.Integer(), duplicate: Type.Integer(), dnc: Type.Integer() },
      { description: 'Beyond the vendor: rows not imported, by reason' },
    ),
    invalidRows: Type.Array(
      Type.Object({ line: Type.Integer(), column: Type.Union([Type.String(), Type.Null()]), reason: Type.String() }),
      {
        description: 'Beyond the vendor: the skipped invalid rows (type="true"), at most 1000',
      },
    ),
  },
  { title: 'BatchUpload' },
);

export const BatchDetailsQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: MAX_DETAILS_LIMIT, default: 10 }),
    filter: Type.Optional(
      Type.String({
        maxLength: 1000,
        description:
          'JSON object of call fields to values, each matched exactly: {"callStatus":"completed"}, {"name":"Emily Davis"}. ' +
          'Fields: _id, phoneNumber (with or without +), callStatus, attempts, createdAt, or any variable of the call',
      }),
    ),
    sortBy: Type.String({
      minLength: 1,
      maxLength: 200,
      default: 'createdAt',
      description:
        'createdAt, phoneNumber, callStatus, attempts, _id or any variable (as text; calls without it come last); ties keep file order',
    }),
    sortOrder: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' }),
    search: Type.Optional(
      Type.String({ maxLength: 100, description: 'Substring of the phone number or any variable' }),
    ),
  },
  { additionalProperties: false },
);

const PhoneLog = Type.Object({
  callStatus: Type.String(),
  callDuration: Type.Union([Type.Number(), Type.Null()]),
  recordingUrl: Type.Union([Type.String(), Type.Null()]),
  transcript: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
});

export const DetailsResponse = Type.Object(
  {
    message: Type.String(),
    status: Type.Literal(true),
    code: Type.Integer(),
    errorMessage: Type.Literal(''),
    data: Type.Object({
      batchId: Type.String(),
      batchName: Type.String(),
      batchStatus: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('completed')], {
        description: 'active (running), paused, or completed (finished or cancelled)',
      }),
      page: Type.Integer(),
      limit: Type.Integer(),
      total: Type.Integer(),
      totalPages: Type.Integer(),
      data: Type.Array(
        Type.Object(
          {
            _id: Type.String(),
            phoneNumber: Type.String({ description: 'Without the leading +, as the vendor shows it' }),
            phoneLogs: Type.Array(PhoneLog, { description: 'One per attempt, oldest first' }),
            createdAt: Timestamp,
          },
          {
            additionalProperties: Type.String(),
            description: "Plus the row's other columns (the agent's variables and any extra ones)",
          },
        ),
      ),
    }),
  },
  { title: 'BatchDetails' },
);

export const ListBatchesQuery = Type.Object(
  {
    offset: Type.Integer({ minimum: 0, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    org_id: Type.Optional(Type.String({ description: 'Only with the master key' })),
  },
  { additionalProperties: false },
);

export const BatchUploadBodyDoc = {
  type: 'object',
  required: ['file', 'userId', 'batchName', 'callingNumbers'],
  properties: {
    file: {
      type: 'string',
      format: 'binary',
      description: '.csv, .xlsx or .xls (first sheet); header row with phoneNumber and the agent’s required variables',
    },
    userId: { type: 'string', pattern: '^[0-9a-f]{24}$', examples: ['64e5f12345abcdef12345678'] },
    batchName: { type: 'string', examples: ['Marketing Campaign May 2025'] },
    batchType: { type: 'string', enum: ['outbound', 'mixed'], default: 'outbound' },
    callingNumbers: {
      type: 'string',
      description: 'JSON array of phone-number ids',
      examples: ['["64e5f12345abcdef87654321"]'],
    },
    enableDNC: { type: 'string', enum: ['true', 'false'], default: 'false' },
    type: {
      type: 'string',
      enum: ['true', 'false'],
      default: 'false',
      description: '"true": import valid rows, report the rest; "false": refuse the file (422) on any invalid row',
    },
    retry: {
      type: 'string',
      description: 'Retries after the first call, 0–10 (0 calls once; attempts in all = retry + 1)',
      default: '2',
    },
    delay: {
      type: 'string',
      description: 'Seconds between attempts, 1–604800 (a week); a few seconds is allowed, for tests',
      default: '3600',
    },
    timezone: { type: 'string', description: 'IANA zone of the calling window', examples: ['America/New_York'] },
    callingHour: {
      type: 'string',
      description: 'JSON {"start":"HH:MM","end":"HH:MM"}; start after end is an overnight window',
      examples: ['{"start":"09:00","end":"17:00"}'],
    },
    allowedDays: { type: 'string', description: 'JSON array, 0 = Sunday', examples: ['[1,2,3,4,5]'] },
  },
} as const;

/** The batch vendor's success envelope around `data`: `code` repeats the HTTP status, `errorMessage` is "" on success. */
export function BatchVendorEnvelope<T extends TSchema>(data: T, title: string) {
  return Type.Object(
    {
      message: Type.String(),
      status: Type.Boolean({ description: 'true on success; false on a partial success (207)' }),
      code: Type.Integer({ description: 'The HTTP status, repeated' }),
      errorMessage: Type.String({ description: '"" on success; what failed on a partial success' }),
      data,
    },
    { title },
  );
}

const Hex24 = Type.String({ pattern: HEX24_PATTERN });

export const CreateBatchBody = Type.Object(
  {
    batchName: Type.String({ minLength: 1, examples: ['Marketing Campaign May 2025'] }),
    callingNumbers: Type.Array(Hex24, {
      minItems: 1,
      maxItems: 100,
      description: 'Ids of the calling numbers (all of one agent)',
    }),
    retry: Type.Optional(Type.Integer({ description: 'Retries after the first call, 0–10 (default 2)' })),
    delay: Type.Optional(Type.Integer({ description: 'Seconds between attempts, 1–604800 (default 3600)' })),
    timezone: Type.Optional(
      Type.String({ description: 'IANA zone of the calling window', examples: ['America/New_York'] }),
    ),
    callingHour: Type.Optional(
      Type.Object({ start: Type.String(), end: Type.String() }, { additionalProperties: false }),
    ),
    allowedDays: Type.Optional(Type.Array(Type.Integer(), { description: '0 = Sunday … 6 = Saturday' })),
    userId: Type.Optional(
      Type.String({
        description: "Beyond the vendor: whose batch it is; default the key's own user (required with the master key)",
      }),
    ),
    batchType: Type.Optional(
      Type.Union([Type.Literal('outbound'), Type.Literal('mixed')], { description: 'Beyond the vendor' }),
    ),
    enableDNC: Type.Optional(Type.Boolean({ description: 'Beyond the vendor: skip numbers on the do-not-call list' })),
  },
  { additionalProperties: false },
);

export const CreateBatchResponse = BatchVendorEnvelope(
  Type.String({ description: 'The new batch’s id' }),
  'CreateBatch',
);

const CallValue = Type.Union([Type.String({ maxLength: 100_000 }), Type.Number(), Type.Boolean(), Type.Null()]);

export const AddCallsToBatchBody = Type.Object(
  {
    batchId: Type.String({ minLength: 1, description: 'From createBatch' }),
    callData: Type.Array(
      Type.Object(
        { phoneNumber: Type.Union([Type.String({ minLength: 1 }), Type.Number()]) },
        {
          additionalProperties: CallValue,
          description: "phoneNumber, an optional timezone (IANA), and the agent's variables and any other fields",
        },
      ),
      { minItems: 1, maxItems: 100_000, description: 'Processed in chunks of 1000' },
    ),
  },
  { additionalProperties: false },
);

export const AddCallsToBatchResponse = BatchVendorEnvelope(
  Type.Object({
    added: Type.Integer({ description: 'Calls added across chunks' }),
    callIds: Type.Array(Type.String(), {
      description: 'The ids of the calls added, and of calls the batch already had for these phones',
    }),
    failedChunks: Type.Optional(
      Type.Array(Type.Object({ chunkNum: Type.Integer({ minimum: 1 }), error: Type.String() }), {
        description: 'Only on 207: the chunks refused, none of whose records was added',
      }),
    ),
  }),
  'AddCallsToBatch',
);

export const UserBatchesQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    search: Type.Optional(
      Type.String({ maxLength: 200, description: 'Part of batchName (any case), or a queue_status' }),
    ),
  },
  { additionalProperties: false },
);

export const UserBatchesResponse = BatchVendorEnvelope(
  Type.Object({
    batches: Type.Array(
      Type.Object({
        _id: Type.String(),
        batchName: Type.String(),
        totalCalls: Type.Integer(),
        callsPicked: Type.Integer({ description: 'Calls picked up: completed, or answered by voicemail' }),
        callsCompleted: Type.Integer({ description: 'Calls completed' }),
        queue_status: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('completed')], {
          description: 'running is active; cancelled and completed are completed',
        }),
        createdAt: Timestamp,
        updatedAt: Timestamp,
      }),
    ),
    pagination: Type.Object({
      total: Type.Integer(),
      page: Type.Integer(),
      limit: Type.Integer(),
      totalPages: Type.Integer(),
    }),
  }),
  'UserBatches',
);
