import assert from 'node:assert/strict';
import { uploadCohort, type CohortBody } from './cohorts.js';
import { SEED_CONFIG } from './seed-config.js';

/** The master key the end-to-end suites start their servers with. */
export const E2E_MASTER_KEY = 'e2e-master-key-0123456789abcdef';
export const E2E_DEPLOYMENT = '/v1/orgs/acme/workspaces/main/deployments/d';
export const E2E_COHORTS = `${E2E_DEPLOYMENT}/cohorts`;

/** Creates org `acme`, workspace `main`, agent `a` (the seed's variables) and deployment `d` over HTTP. */
export async function setUpTenant(baseUrl: string, deployment: { default_country?: string } = {}): Promise<void> {
  const post = async (url: string, body: unknown) => {
    const response = await fetch(`${baseUrl}${url}`, {
      method: 'POST',
      headers: { 'x-api-key': E2E_MASTER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 201, `${url}: ${await response.text()}`);
  };
  await post('/v1/orgs', { org_id: 'acme', name: 'Acme' });
  await post('/v1/orgs/acme/workspaces', { workspace_id: 'main', name: 'Main' });
  await post('/v1/orgs/acme/workspaces/main/agents', {
    agent_id: 'a',
    name: 'A',
    variables: [{ name: 'customer_name', required: true }, { name: 'outstanding_amount' }, { name: 'due_date' }],
  });
  await post('/v1/orgs/acme/workspaces/main/deployments', {
    deployment_id: 'd',
    name: 'D',
    agent_id: 'a',
    ...deployment,
  });
}

/** Uploads a CSV with the seed's config to the e2e deployment and answers the accepted cohort. */
export async function uploadSeedCohort(
  baseUrl: string,
  name: string,
  csv: string | Buffer | Blob,
): Promise<CohortBody> {
  const response = await uploadCohort(baseUrl, `${E2E_COHORTS}/upload`, E2E_MASTER_KEY, {
    name,
    csv,
    config: SEED_CONFIG,
  });
  const body = (await response.json()) as CohortBody;
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

/** The cohort as the API shows it. */
export async function fetchCohort(baseUrl: string, cohortId: string): Promise<CohortBody> {
  return (await (
    await fetch(`${baseUrl}${E2E_COHORTS}/${cohortId}`, { headers: { 'x-api-key': E2E_MASTER_KEY } })
  ).json()) as CohortBody;
}

/** Polls until the cohort leaves `processing`; fails the test past `timeoutMs`. */
export async function waitForCohortOverHttp(
  baseUrl: string,
  cohortId: string,
  timeoutMs = 120_000,
): Promise<CohortBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cohort = await fetchCohort(baseUrl, cohortId);
    if (cohort.status !== 'processing') return cohort;
    assert.ok(Date.now() < deadline, `cohort ${cohortId} still processing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A request to a spawned server with the master key (and a JSON body): its status and JSON answer. */
export async function e2eCall(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'x-api-key': E2E_MASTER_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
