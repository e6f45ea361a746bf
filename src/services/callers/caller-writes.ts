// One caller without a file (#17): PUT stores a caller as a cohort of one row, completed at once,
// so it wins over every earlier cohort by the usual latest-wins order; DELETE removes a number from
// every cohort of the deployment.
import { planIngest } from '../../domain/ingest/ingest-plan.js';
import { parseTransformationValue } from '../../domain/ingest/transformation-config.js';
import { transformRow } from '../../domain/ingest/transform-row.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import * as cohorts from '../../storage/repositories/cohorts-repository.js';
import { findDeploymentCountry } from '../../storage/repositories/deployments-repository.js';
import { BlockingCohortError, type CohortDeps } from '../cohorts/cohort-deps.js';
import { asAppError, createdBy, newCohortId, requireDeployment } from '../cohorts/cohort-service.js';
import { agentVariablesOf, blockingError } from '../cohorts/ingest-cohort.js';
import { type StreamUser, usersToTable } from '../cohorts/stream-source.js';
import { type CallerView, normaliseOrRefuse } from './caller-service.js';

/** The name of the one-row cohort a PUT makes. */
export const SINGLE_CALLER_COHORT = 'Single caller';

export type CallerInput = Omit<StreamUser, 'user_phone_number'>;

function refusal(error: unknown): never {
  if (error instanceof BlockingCohortError) throw asAppError(error);
  throw error;
}

/**
 * Upserts one caller: the number (national forms read with the deployment's default country) and
 * its variables and overrides are checked as a row of a file is, then stored as a completed cohort
 * of one contact in one transaction, so lookups answer it at once and it wins over every earlier
 * cohort. A later upload that holds the number wins over it in turn.
 */
export async function putCaller(
  deps: CohortDeps,
  scope: DeploymentScope,
  principal: Principal,
  rawPhone: string,
  input: CallerInput,
): Promise<CallerView> {
  await requireDeployment(deps, scope);
  const agent = await agentVariablesOf(deps, scope).catch(refusal);
  const table = usersToTable([{ ...input, user_phone_number: rawPhone }]);
  const parsed = parseTransformationValue(table.transformation);
  if (!parsed.ok) refusal(blockingError(parsed.issues));
  const planned = planIngest(parsed.config, table.header, agent.variables, {
    defaultCountry: agent.defaultCountry,
    maxColumns: deps.config.cohorts.maxColumns,
    maxFieldLength: deps.config.cohorts.maxFieldLength,
  });
  if (!planned.ok) refusal(blockingError(planned.issues));
  const outcome = transformRow(planned.plan, table.rows[0]!);
  if (!outcome.ok)
    throw new AppError('caller_rejected', `The caller was refused as a file's row would be: ${outcome.reason}.`, {
      code: outcome.code,
    });
  const now = new Date().toISOString();
  const row = await deps.db.transaction().execute(async (trx) => {
    const cohort = await cohorts.insertCohort(trx, {
      cohort_id: newCohortId(),
      org_id: scope.orgId,
      workspace_id: scope.workspaceId,
      deployment_id: scope.deploymentId,
      name: SINGLE_CALLER_COHORT,
      status: 'completed',
      source_type: 'file_upload',
      source_url: null,
      created_by: createdBy(principal),
      created_at: now,
      updated_by: null,
      updated_at: now,
      total_records: 1,
      valid_records: 1,
      rejected_records: 0,
      error_code: null,
      error_message: null,
      transformation: JSON.stringify(table.transformation),
      file_key: null,
      file_encoding: null,
      file_bytes: null,
      rejected_file_key: null,
    });
    await trx.updateTable('cohorts').set({ rejections_by_reason: '[]' }).where('seq', '=', cohort.seq).execute();
    await trx
      .insertInto('contacts')
      .values({
        cohort_seq: cohort.seq,
        // The row a file of this one caller would have it on, after its header.
        row_number: 2,
        phone: outcome.phone,
        user_identifier: outcome.userIdentifier,
        app_variables: JSON.stringify(outcome.appVariables),
        app_overrides: JSON.stringify(outcome.appOverrides),
      })
      .execute();
    return cohort;
  });
  return {
    found: true,
    phone_number: outcome.phone,
    cohort_id: row.cohort_id,
    cohort_name: row.name,
    user_identifier: outcome.userIdentifier,
    app_variables: { ...outcome.appVariables },
    app_overrides: { ...outcome.appOverrides },
    uploaded_at: row.created_at,
  };
}

/** A number as a lookup reads it: E.164, national forms with `country` or the deployment's default. */
async function callerNumber(deps: CohortDeps, scope: DeploymentScope, rawPhone: string, country?: string) {
  const deployment = await findDeploymentCountry(deps.db, scope);
  if (!deployment) throw new AppError('not_found', `Deployment '${scope.deploymentId}' not found.`);
  return normaliseOrRefuse(rawPhone, country?.toUpperCase() ?? deployment.defaultCountry ?? undefined);
}

/**
 * Removes a number from every cohort of the deployment, in one transaction: lookups answer
 * found: false at once. Each cohort that held it counts one valid record less. Answers the cohorts
 * it was removed from (none is not an error: the number is gone either way).
 */
export async function deleteCaller(
  deps: CohortDeps,
  scope: DeploymentScope,
  rawPhone: string,
  country: string | undefined,
): Promise<{ phone_number: string; deleted: boolean; cohort_ids: string[] }> {
  const phone = await callerNumber(deps, scope, rawPhone, country);
  const removedFrom = await deps.db.transaction().execute(async (trx) => {
    const held = await trx
      .selectFrom('contacts as c')
      .innerJoin('cohorts as h', 'h.seq', 'c.cohort_seq')
      .select(['h.seq', 'h.cohort_id'])
      .where('c.phone', '=', phone)
      .where('h.org_id', '=', scope.orgId)
      .where('h.workspace_id', '=', scope.workspaceId)
      .where('h.deployment_id', '=', scope.deploymentId)
      .orderBy('h.seq')
      .execute();
    if (held.length === 0) return [];
    const seqs = held.map((h) => Number(h.seq));
    await trx.deleteFrom('contacts').where('phone', '=', phone).where('cohort_seq', 'in', seqs).execute();
    await trx
      .updateTable('cohorts')
      .set((eb) => ({ valid_records: eb('valid_records', '-', 1), updated_at: new Date().toISOString() }))
      .where('seq', 'in', seqs)
      .where('valid_records', 'is not', null)
      .execute();
    return held.map((h) => h.cohort_id);
  });
  return { phone_number: phone, deleted: removedFrom.length > 0, cohort_ids: removedFrom };
}
