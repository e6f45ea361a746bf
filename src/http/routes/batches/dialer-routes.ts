import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { BatchDeps } from '../../../services/batches/batch-deps.js';
import { leaseCalls, reportCall } from '../../../services/batches/dialer-service.js';
import { principalOf } from '../../plugins/auth.js';
import { routeErrorCodes } from '../../route-error-codes.js';
import { BatchVendorErrorSchema, Timestamp } from '../../schemas.js';
import { BATCH_ROUTE_ERRORS } from './batch-errors.js';

const LeasedCallSchema = Type.Object({
  callId: Type.String(),
  leaseId: Type.String(),
  batchId: Type.String(),
  phoneNumber: Type.String({ description: 'E.164' }),
  callerNumber: Type.String({ description: "The batch's calling number to use, rotated across its numbers" }),
  attempt: Type.Integer({ description: '1 for the first attempt' }),
  variables: Type.Record(Type.String(), Type.String()),
  timezone: Type.String({ description: "The contact's zone (its timezone column, else the batch's)" }),
  leaseExpiresAt: Timestamp,
});

/** The dialer's side: lease the calls that are due, report each outcome. */
export async function dialerRoutes(appBase: FastifyInstance, options: { deps: BatchDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['dialer'];
  app.post(
    '/api/call/dialer/lease',
    {
      schema: {
        tags,
        summary: 'Lease the calls due now (each to one caller only)',
        body: Type.Object(
          {
            max: Type.Integer({ minimum: 1, maximum: 500, default: 10 }),
            lease_seconds: Type.Integer({ minimum: 10, maximum: 3600, default: 300 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ calls: Type.Array(LeasedCallSchema) }) },
      },
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.dialerLease) },
    },
    async (request) => ({
      calls: await leaseCalls(options.deps, principalOf(request), request.body.max, request.body.lease_seconds),
    }),
  );
  app.post(
    '/api/call/dialer/report',
    {
      schema: {
        tags,
        summary:
          "Report a leased call's outcome; failed, unanswered and busy attempts are retried after the batch's delay",
        body: Type.Object(
          {
            callId: Type.String(),
            leaseId: Type.String(),
            callStatus: Type.String({ description: 'completed, failed, no_answer, busy, voicemail, cancelled' }),
            callDuration: Type.Optional(Type.Number({ minimum: 0 })),
            recordingUrl: Type.Optional(Type.String({ maxLength: 4096 })),
            transcript: Type.Optional(Type.String({ maxLength: 1_000_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            success: Type.Literal(true),
            call: Type.Object({
              _id: Type.String(),
              callStatus: Type.String(),
              attempts: Type.Integer(),
              nextAttemptAt: Type.Union([Timestamp, Type.Null()]),
            }),
          }),
          409: BatchVendorErrorSchema,
        },
      },
      config: { errorCodes: routeErrorCodes(BATCH_ROUTE_ERRORS.dialerReport) },
    },
    async (request) => ({
      ...(await reportCall(options.deps, principalOf(request), request.body)),
      success: true as const,
    }),
  );
}
