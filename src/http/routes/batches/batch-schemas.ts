import { Type } from '@sinclair/typebox';
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
    retry: Type.Integer(),
    delay: Type.Integer(),
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
    batch: Type.Object({ _id: Type.String(), batchName: Type.String(), callingNumbers: Type.Array(Type.String()), totalCalls: Type.Integer() }),
    skipped: Type.Object({ invalid: Type.Integer(), duplicate: Type.Integer(), dnc: Type.Integer() }, { description: 'Beyond the vendor: rows not imported, by reason' }),
    invalidRows: Type.Array(Type.Object({ line: Type.Integer(), column: Type.Union([Type.String(), Type.Null()]), reason: Type.String() }), {
      description: 'Beyond the vendor: the skipped invalid rows (type="true"), at most 1000',
    }),
  },
  { title: 'BatchUpload' },
);

export const BatchDetailsQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    filter: Type.Optional(Type.String({ maxLength: 1000, description: 'JSON, e.g. {"callStatus":"failed"}' })),
    sortBy: Type.Union([Type.Literal('createdAt'), Type.Literal('phoneNumber'), Type.Literal('callStatus'), Type.Literal('attempts')], { default: 'createdAt' }),
    sortOrder: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' }),
    search: Type.Optional(Type.String({ maxLength: 100, description: 'Substring of the phone number or any variable' })),
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
    status: Type.String(),
    code: Type.Integer(),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
    data: Type.Object({
      batchId: Type.String(),
      batchName: Type.String(),
      batchStatus: Type.String(),
      page: Type.Integer(),
      limit: Type.Integer(),
      total: Type.Integer(),
      totalPages: Type.Integer(),
      data: Type.Array(
        Type.Object(
          {
            _id: Type.String(),
            phoneNumber: Type.String({ description: 'Without the leading +, as the vendor shows it' }),
            callStatus: Type.String(),
            attempts: Type.Integer(),
            phoneLogs: Type.Array(PhoneLog),
            createdAt: Timestamp,
          },
          { additionalProperties: Type.String(), description: "Plus the row's other columns (the agent's variables and any extra ones)" },
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
    file: { type: 'string', format: 'binary', description: '.csv, .xlsx or .xls (first sheet); header row with phoneNumber and the agent’s required variables' },
    userId: { type: 'string', pattern: '^[0-9a-f]{24}$', examples: ['64e5f12345abcdef12345678'] },
    batchName: { type: 'string', examples: ['Marketing Campaign May 2025'] },
    batchType: { type: 'string', enum: ['outbound', 'mixed'], default: 'outbound' },
    callingNumbers: { type: 'string', description: 'JSON array of phone-number ids', examples: ['["64e5f12345abcdef87654321"]'] },
    enableDNC: { type: 'string', enum: ['true', 'false'], default: 'false' },
    type: { type: 'string', enum: ['true', 'false'], default: 'false', description: '"true": import valid rows, report the rest; "false": refuse the file (422) on any invalid row' },
    retry: { type: 'string', description: 'Attempts per contact, 1–10', default: '3' },
    delay: { type: 'string', description: 'Minutes between attempts, 1–10080', default: '60' },
    timezone: { type: 'string', description: 'IANA zone of the calling window', examples: ['America/New_York'] },
    callingHour: { type: 'string', description: 'JSON {"start":"HH:MM","end":"HH:MM"}; start after end is an overnight window', examples: ['{"start":"09:00","end":"17:00"}'] },
    allowedDays: { type: 'string', description: 'JSON array, 0 = Sunday', examples: ['[1,2,3,4,5]'] },
  },
} as const;

export const CreateBatchBody = Type.Object(
  {
    userId: Type.String(),
    batchName: Type.String(),
    batchType: Type.Optional(Type.Union([Type.Literal('outbound'), Type.Literal('mixed')])),
    callingNumbers: Type.Array(Type.String(), { minItems: 1, maxItems: 100 }),
    enableDNC: Type.Optional(Type.Boolean()),
    retry: Type.Optional(Type.Integer()),
    delay: Type.Optional(Type.Integer()),
    timezone: Type.Optional(Type.String()),
    callingHour: Type.Optional(Type.Object({ start: Type.String(), end: Type.String() }, { additionalProperties: false })),
    allowedDays: Type.Optional(Type.Array(Type.Integer())),
  },
  { additionalProperties: false },
);

export const AddCallsBody = Type.Object(
  {
    calls: Type.Array(Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 100_000 }), { description: 'phoneNumber, optional timezone, and the variables' }), {
      minItems: 1,
      maxItems: 1000,
    }),
  },
  { additionalProperties: false },
);

export const AddCallsResponse = Type.Object({
  success: Type.Literal(true),
  created: Type.Integer(),
  results: Type.Array(
    Type.Object({
      index: Type.Integer(),
      status: Type.String({ description: 'created, invalid, duplicate or dnc' }),
      callId: Type.Optional(Type.String()),
      reason: Type.Optional(Type.String()),
      column: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    }),
  ),
});
