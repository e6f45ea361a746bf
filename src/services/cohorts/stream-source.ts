import type { RecordCreated } from '../record-created.js';
import { Readable } from 'node:stream';
import Papa from 'papaparse';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import type { CohortDeps } from './cohort-deps.js';
import {
  acceptCohortUpload,
  checkCohortName,
  newCohortId,
  requireDeployment,
  stageCohortFile,
  type CohortView,
} from './cohort-service.js';

export interface StreamUser {
  user_phone_number: string;
  user_identifier?: string;
  app_variables?: Record<string, string | number | boolean>;
  app_overrides?: Record<string, string | number | boolean>;
}

/**
 * Users sent as JSON in the shape of a file: a header with one column per field, one row per user,
 * and the transformation config that maps the columns. The one ingest pipeline then applies the same
 * rules to them as to an upload's rows.
 */
export function usersToTable(users: StreamUser[]): { header: string[]; rows: string[][]; transformation: object } {
  const variables = [...new Set(users.flatMap((u) => Object.keys(u.app_variables ?? {})))];
  const overrides = [...new Set(users.flatMap((u) => Object.keys(u.app_overrides ?? {})))];
  const withIdentifier = users.some((u) => u.user_identifier !== undefined);
  const header = [
    'user_phone_number',
    ...(withIdentifier ? ['user_identifier'] : []),
    ...variables.map((v) => `app_variables.${v}`),
    ...overrides.map((o) => `app_overrides.${o}`),
  ];
  const text = (value: string | number | boolean | undefined) => (value === undefined ? '' : String(value));
  const rows = users.map((u) => [
    u.user_phone_number,
    ...(withIdentifier ? [u.user_identifier ?? ''] : []),
    ...variables.map((v) => text(u.app_variables?.[v])),
    ...overrides.map((o) => text(u.app_overrides?.[o])),
  ]);
  const transformation = {
    phone_number: { column_name: 'user_phone_number' },
    ...(withIdentifier ? { user_identifier: { column_name: 'user_identifier' } } : {}),
    app_variables: Object.fromEntries(variables.map((v) => [v, { column_name: `app_variables.${v}` }])),
    app_overrides: Object.fromEntries(overrides.map((o) => [o, { column_name: `app_overrides.${o}` }])),
  };
  return { header, rows, transformation };
}

/** usersToTable as an upload: the CSV file and its config's text. */
export function usersToCohortFile(users: StreamUser[]): { csv: string; transformation: string } {
  const { header, rows, transformation } = usersToTable(users);
  const csv = `${Papa.unparse({ fields: header, data: rows }, { newline: '\n', quotes: true })}\n`;
  return { csv, transformation: JSON.stringify(transformation) };
}

/** POST /stream: known callers without a file; processed asynchronously like an upload. */
export async function acceptCohortFromUsers(
  deps: CohortDeps,
  scope: DeploymentScope,
  principal: Principal,
  input: { name: string; users: StreamUser[] },
  recordCreated?: RecordCreated<CohortView>,
): Promise<CohortView> {
  await requireDeployment(deps, scope);
  const name = checkCohortName(input.name);
  const { csv, transformation } = usersToCohortFile(input.users);
  const cohortId = newCohortId();
  const staged = await stageCohortFile(deps, cohortId, Readable.from([Buffer.from(csv, 'utf8')]));
  return acceptCohortUpload(deps, scope, principal, {
    cohortId,
    name,
    staged,
    transformationText: transformation,
    recordCreated,
  });
}
