// The call-time lookup the voice runtime makes for every inbound call.
import { normaliseCallerId } from '../../domain/ingest/phone.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { AppError } from '../../errors.js';
import { type CallerMatch, findLatestContact } from '../../storage/repositories/contacts-repository.js';
import { findDeploymentCountry } from '../../storage/repositories/deployments-repository.js';
import type { CohortDeps } from '../cohorts/cohort-deps.js';

/**
 * What a lookup reads and reports to: the database, its fastest read of a caller (`Storage.callers`)
 * and, when measured, the lookup histogram.
 */
export type CallerDeps = Pick<CohortDeps, 'db' | 'callers' | 'metrics'>;

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
    const found = await deps.callers.findDeploymentWithContact(scope, phone);
    if (!found) throw deploymentNotFound(scope);
    match = found.match;
  } else {
    ({ phone, match } = await lookupNational(deps, scope, rawPhone));
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
export function normaliseOrRefuse(rawPhone: string, country: string | undefined): string {
  const normalised = normaliseCallerId(rawPhone, country);
  if (!normalised.ok) throw new AppError('invalid_phone_number', normalised.reason, { phone: rawPhone });
  return normalised.phone;
}

function deploymentNotFound(scope: DeploymentScope): AppError {
  return new AppError('not_found', `Deployment '${scope.deploymentId}' not found.`);
}

/**
 * The default country last read for each deployment, per database handle. A national number is read
 * with it and looked up in one statement that also returns the deployment's current country; when
 * that differs (the deployment was changed, by this process or another) the lookup starts again from
 * the current one. So the memo saves a round trip per call and never changes an answer. Cleared when
 * it holds KNOWN_COUNTRIES_MAX deployments.
 */
const knownCountries = new WeakMap<object, Map<string, string | null>>();
const KNOWN_COUNTRIES_MAX = 10_000;

function countryMemo(db: object): Map<string, string | null> {
  let memo = knownCountries.get(db);
  if (!memo) {
    memo = new Map();
    knownCountries.set(db, memo);
  }
  return memo;
}

/** A number without a country of its own: read with the deployment's default country. */
async function lookupNational(
  deps: CallerDeps,
  scope: DeploymentScope,
  rawPhone: string,
): Promise<{ phone: string; match: CallerMatch | undefined }> {
  const memo = countryMemo(deps.db);
  const key = `${scope.orgId}\u0000${scope.workspaceId}\u0000${scope.deploymentId}`;
  const remembered = memo.get(key);
  if (remembered !== undefined) {
    const normalised = normaliseCallerId(rawPhone, remembered ?? undefined);
    if (normalised.ok) {
      const found = await deps.callers.findDeploymentWithContact(scope, normalised.phone);
      if (found && found.defaultCountry === remembered) return { phone: normalised.phone, match: found.match };
    }
    // Changed, gone, or the number is refused under the remembered country: read the country again.
    memo.delete(key);
  }
  const deployment = await findDeploymentCountry(deps.db, scope);
  if (!deployment) throw deploymentNotFound(scope);
  if (memo.size >= KNOWN_COUNTRIES_MAX) memo.clear();
  memo.set(key, deployment.defaultCountry);
  const phone = normaliseOrRefuse(rawPhone, deployment.defaultCountry ?? undefined);
  return { phone, match: await findLatestContact(deps.db, scope, phone) };
}
