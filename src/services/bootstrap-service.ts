import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';
import { countOrgs } from '../storage/repositories/orgs-repository.js';
import { findMasterKeyHash } from '../storage/repositories/keys-repository.js';
import { createApiKey, generateMasterKey } from './key-service.js';
import * as tenancy from './tenancy-service.js';

export interface DemoTenant {
  masterKey: string;
  apiKey: string;
  orgId: string;
  workspaceId: string;
  deploymentId: string;
  agentId: string;
  phoneNumberId: string;
}

export const DEMO = {
  orgId: 'demo',
  workspaceId: 'default',
  agentId: 'collections',
  deploymentId: 'demo',
  callingNumber: '+14155550100',
  userEmail: 'demo@example.com',
} as const;

/**
 * On a first start with an empty database (no orgs, no master key), creates a master key and a
 * demo tenant so that the README's example works at once. Returns undefined when the database
 * was not empty, or another instance did it first.
 */
export async function bootstrapDemoTenant(db: Kysely<Database>): Promise<DemoTenant | undefined> {
  if ((await countOrgs(db)) > 0 || (await findMasterKeyHash(db)) !== undefined) return undefined;
  const masterKey = await generateMasterKey(db);
  if (masterKey === undefined) return undefined;

  await tenancy.createOrg(db, { org_id: DEMO.orgId, name: 'Demo' });
  await tenancy.createWorkspace(db, DEMO.orgId, { workspace_id: DEMO.workspaceId, name: 'Default' });
  const user = await tenancy.createUser(db, DEMO.orgId, { email: DEMO.userEmail, name: 'Demo user' });
  await tenancy.createAgent(db, DEMO.orgId, DEMO.workspaceId, {
    agent_id: DEMO.agentId,
    name: 'Collections agent',
    variables: [
      { name: 'customer_name', required: true, description: 'How the agent greets the caller' },
      { name: 'outstanding_amount', description: 'Balance due, as a number' },
      { name: 'due_date', description: 'Payment due date, ISO 8601' },
    ],
    languages: ['English', 'Hindi'],
    states: ['greeting', 'payment_reminder'],
  });
  await tenancy.createDeployment(db, DEMO.orgId, DEMO.workspaceId, {
    deployment_id: DEMO.deploymentId,
    name: 'Demo deployment',
    agent_id: DEMO.agentId,
    default_country: 'IN',
  });
  const number = await tenancy.createPhoneNumber(db, DEMO.orgId, DEMO.workspaceId, {
    phone_number: DEMO.callingNumber,
    agent_id: DEMO.agentId,
    label: 'Demo calling number',
  });
  const key = await createApiKey(db, DEMO.orgId, {
    name: 'demo',
    user_id: user.user_id,
    workspaces: [DEMO.workspaceId],
  });
  return {
    masterKey,
    apiKey: key.key,
    orgId: DEMO.orgId,
    workspaceId: DEMO.workspaceId,
    deploymentId: DEMO.deploymentId,
    agentId: DEMO.agentId,
    phoneNumberId: number._id,
  };
}

/** The one-time banner printed to stdout (never to the logs) after bootstrapDemoTenant. */
export function demoBanner(demo: DemoTenant, baseUrl: string): string {
  const path = `/v1/orgs/${demo.orgId}/workspaces/${demo.workspaceId}/deployments/${demo.deploymentId}`;
  return [
    '',
    '================================================================================',
    ' Roster first start: generated keys. They are shown this once and stored hashed.',
    '',
    ' Master key (admin API; keep it safe, or set ROSTER_MASTER_KEY instead):',
    `   ${demo.masterKey}`,
    '',
    ` Demo tenant: org "${demo.orgId}", workspace "${demo.workspaceId}", agent "${demo.agentId}", deployment "${demo.deploymentId}"`,
    ' API key for it:',
    `   ${demo.apiKey}`,
    '',
    ' Try it:',
    `   curl -s -H 'X-API-Key: ${demo.apiKey}' ${baseUrl}${path}`,
    ` Or open ${baseUrl}/console/ in a browser and sign in with that key.`,
    '================================================================================',
    '',
  ].join('\n');
}
