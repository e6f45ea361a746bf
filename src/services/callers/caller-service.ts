// The call-time lookup the voice runtime makes for every inbound call.
import { normaliseCallerId } from '../../domain/ingest/phone.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { AppError } from '../../errors.js';
import {
  type CallerMatch,
  findDeploymentWithContact,
  findLatestContact,
} from '../../storage/repositories/contacts-repository.js';
import { findDeploymentCountry } from '../../storage/repositories/deployments-repository.js';
import type { CohortDeps } from '../cohorts/cohort-deps.js';

/** What a lookup reads and reports to: the database and, when measured, the lookup histogram. */
export type CallerDeps = Pick<CohortDeps, 'db' | 'metrics'>;

export interface CallerView {
  found: boolean;
  phone_number: string;
  cohort_id?: string;
  cohort_name?: string;
  user_identifier?: string | null;
  app_variables?: Record<string, string>;
  app_overrides?: Record<string, string>;
  uploaded_at?: string;
}

/** The call-time lookup: the newest completed cohort of the deployment that holds the number. */
export async function lookupCaller(
  deps: CallerDeps,
  scope: DeploymentScope,
  rawPhone: string,
  country: string | undefined,
): Promise<CallerView> {
  const metrics = deps.metrics;
  const started = metrics ? performance.now() : 0;
  let phone: string;
  let match: CallerMatch | undefined;
  const requested = country?.toUpperCase();
  if (requested !== undefined || rawPhone.trimStart().startsWith('+')) {
    // The number can be read without the deployment: one statement answers both.
    phone = normaliseOrRefuse(rawPhone, requested);
    const found = await findDeploymentWithContact(deps.db, scope, phone);
    if (!found) throw new AppError('not_found', `Deployment '${scope.deploymentId}' not found.`);
    match = found.match;
  } else {
    const deployment = await findDeploymentCountry(deps.db, scope);
    if (!deployment) throw new AppError('not_found', `Deployment '${scope.deploymentId}' not found.`);
    phone = normaliseOrRefuse(rawPhone, deployment.defaultCountry ?? undefined);
    match = await findLatestContact(deps.db, scope, phone);
  }
  // Answers only: a refused number or a missing deployment is an error, not a lookup.
  metrics?.lookupSeconds((performance.now() - started) / 1000, match !== undefined);
  if (!match) return { found: false, phone_number: phone };
  return {
    found: true,
    phone_number: phone,
    cohort_id: match.cohort_id,
    cohort_name: match.cohort_name,
    user_identifier: match.user_identifier,
    app_variables: match.app_variables,
    app_overrides: match.app_overrides,
    uploaded_at: match.uploaded_at,
  };
}

/**
 * The number to look up: its E.164, or for a phone-shaped caller id libphonenumber does not accept,
 * its echo (which no contact holds, so the lookup answers found: false). Only input that cannot be
 * a number is refused: the runtime asks with whatever caller id the carrier gave.
 */
function normaliseOrRefuse(rawPhone: string, country: string | undefined): string {
  const normalised = normaliseCallerId(rawPhone, country);
  if (!normalised.ok) throw new AppError('invalid_phone_number', normalised.reason, { phone: rawPhone });
  return normalised.phone;
}
