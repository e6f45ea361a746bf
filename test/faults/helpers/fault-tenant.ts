import assert from 'node:assert/strict';
import { E2E_COHORTS, E2E_DEPLOYMENT, E2E_MASTER_KEY, setUpTenant } from '../../helpers/e2e-tenant.js';
import { csvText, uploadCohort } from '../../helpers/cohorts.js';
import { SEED_CONFIG } from '../../helpers/seed-config.js';

/** What a fault test needs beyond test/helpers/e2e-tenant.ts's tenant: an org key, and a user and calling number for batch uploads. */
export interface FaultTenant {
  /** An org API key for workspace `main` (a voice runtime's key: its every request reads the database). */
  apiKey: string;
  userId: string;
  phoneNumberId: string;
}

/** The cohort list of the e2e deployment. */
export const COHORTS_URL = E2E_COHORTS;

/** The lookup path for `phone` (an Indian mobile without country code) in the e2e deployment. */
export function lookupPath(phone: string): string {
  return `${E2E_DEPLOYMENT}/callers/${encodeURIComponent(phone)}?country=IN`;
}

/** Sets up the e2e tenant (setUpTenant) plus a user, an agent with a language, its calling number and an org key, over HTTP. */
export async function setUpFaultTenant(
  baseUrl: string,
  deployment: { default_country?: string } = {},
): Promise<FaultTenant> {
  await setUpTenant(baseUrl, deployment);
  const post = async (url: string, body: unknown): Promise<Record<string, string>> => {
    const response = await fetch(`${baseUrl}${url}`, {
      method: 'POST',
      headers: { 'x-api-key': E2E_MASTER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    assert.equal(response.status, 201, `${url}: ${text}`);
    return JSON.parse(text) as Record<string, string>;
  };
  const ws = '/v1/orgs/acme/workspaces/main';
  const user = await post('/v1/orgs/acme/users', { email: 'ops@acme.example', name: 'Ops' });
  await post(`${ws}/agents`, {
    agent_id: 'dialer',
    name: 'Dialer',
    variables: [{ name: 'customer_name' }],
    languages: ['English'],
  });
  const number = await post(`${ws}/phone-numbers`, { phone_number: '+14155550100', agent_id: 'dialer' });
  const key = await post('/v1/orgs/acme/api-keys', { name: 'runtime', user_id: user.user_id, workspaces: ['main'] });
  return { apiKey: key.key!, userId: user.user_id!, phoneNumberId: number._id! };
}

/** A cohort CSV of `rows` rows (phones 98000000xx…), in the seed's columns. */
export function cohortCsv(rows: number, firstPhone = 9800000000): string {
  return csvText(
    'mobile,name,balance,payment_due,preferred_language',
    rows,
    (i) => `${firstPhone + i},Person ${i},${i},2024-07-31,Hindi`,
  );
}

/** Posts a cohort upload with the seed's config; answers the raw response. */
export function postCohort(baseUrl: string, name: string, csv: string | Blob, key = E2E_MASTER_KEY): Promise<Response> {
  return uploadCohort(baseUrl, `${E2E_COHORTS}/upload`, key, { name, csv, config: SEED_CONFIG });
}

/** The fetch init of a cohort upload (FormData, the seed's config), for `ask` or with a dispatcher of the test's choosing. */
export function cohortUploadInit(name: string, csv: string, key = E2E_MASTER_KEY): RequestInit {
  const form = new FormData();
  form.append('name', name);
  form.append('cohort_file', new Blob([csv], { type: 'text/csv' }), 'users.csv');
  form.append(
    'cohort_transformation_file',
    new Blob([JSON.stringify(SEED_CONFIG)], { type: 'application/json' }),
    'config.json',
  );
  return { method: 'POST', headers: { 'x-api-key': key }, body: form };
}

/** How many cohorts the e2e deployment lists (the database must be up). */
export async function cohortTotal(baseUrl: string): Promise<number> {
  const response = await fetch(`${baseUrl}${E2E_COHORTS}`, { headers: { 'x-api-key': E2E_MASTER_KEY } });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return (JSON.parse(text) as { total: number }).total;
}
