// Which error codes each admin route answers with: the OpenAPI document lists them, with examples.
import type { ErrorCode } from '../../../errors.js';
import { COMMON_ERROR_CODES, WRITE_ERROR_CODES } from '../../route-error-codes.js';

/**
 * What any keyed route can answer, whatever it is asked: no key, a spent budget, a bug, the database
 * down. validation_failed and not_found are left to the routes that can send them: a route whose
 * path holds only free-text ids and that takes no query or body fails no schema, and the routes
 * that name no org have nothing to miss.
 */
const ANY: readonly ErrorCode[] = COMMON_ERROR_CODES.filter(
  (code) => code !== 'validation_failed' && code !== 'not_found',
);

/**
 * A JSON body to a route that writes rows only: no object storage behind it, so no
 * storage_unavailable; a full disk can still refuse the insert (insufficient_storage).
 */
const JSON_BODY: readonly ErrorCode[] = WRITE_ERROR_CODES.filter((code) => code !== 'storage_unavailable');

/**
 * A DELETE takes no body, but Fastify reads one when it is sent (with its Content-Type), so it can be
 * refused as any JSON body can.
 */
const DELETE_BODY = JSON_BODY;

/** An org or workspace in the path that is missing, or that the key may not reach (auth.ts requireOrg/requireWorkspace). */
const IN_ORG: readonly ErrorCode[] = [...ANY, 'not_found'];
/** The same, behind the master key (auth.ts requireMaster answers not_found first to another org's key). */
const MASTER_IN_ORG: readonly ErrorCode[] = [...IN_ORG, 'admin_key_required'];

/**
 * Route → every code it answers with (COMMON_ERROR_CODES included where they apply), read from
 * plugins/auth.ts (requireMaster, requireOrg, requireWorkspace), tenancy-service.ts and
 * key-service.ts, and the repositories they call (a duplicate key is already_exists; no repository
 * raises an AppError of its own). validation_failed: a body, or a list's offset and limit, fails the
 * schema or a service's own check. A code a service starts throwing must be added here: the test
 * harness fails any suite whose requests get a code their route does not list (test/helpers/test-app.ts).
 */
export const ADMIN_ROUTE_ERRORS = {
  // Orgs: creating and listing them needs the master key and names no org.
  createOrg: [...ANY, 'validation_failed', 'admin_key_required', 'already_exists', ...JSON_BODY],
  listOrgs: [...ANY, 'validation_failed', 'admin_key_required'],
  getOrg: IN_ORG,
  deleteOrg: [...MASTER_IN_ORG, ...DELETE_BODY],
  // Users: an email is unique within its org.
  createUser: [...MASTER_IN_ORG, 'validation_failed', 'already_exists', ...JSON_BODY],
  listUsers: [...MASTER_IN_ORG, 'validation_failed'],
  getUser: MASTER_IN_ORG,
  deleteUser: [...MASTER_IN_ORG, ...DELETE_BODY],
  // API keys: an unknown user_id or workspace is a validation_failed on the body; a prefix collision is drawn again.
  createApiKey: [...MASTER_IN_ORG, 'validation_failed', ...JSON_BODY],
  listApiKeys: [...MASTER_IN_ORG, 'validation_failed'],
  getApiKey: MASTER_IN_ORG,
  revokeApiKey: [...MASTER_IN_ORG, ...DELETE_BODY],
  // Workspaces, and what they hold: an org key reads the workspaces it names; writes need the master key.
  createWorkspace: [...MASTER_IN_ORG, 'validation_failed', 'already_exists', ...JSON_BODY],
  listWorkspaces: [...IN_ORG, 'validation_failed'],
  getWorkspace: IN_ORG,
  deleteWorkspace: [...MASTER_IN_ORG, ...DELETE_BODY],
  // Repeated variable names are a validation_failed on the body.
  createAgent: [...MASTER_IN_ORG, 'validation_failed', 'already_exists', ...JSON_BODY],
  listAgents: [...IN_ORG, 'validation_failed'],
  getAgent: IN_ORG,
  deleteAgent: [...MASTER_IN_ORG, 'in_use', ...DELETE_BODY],
  // An agent_id not in the workspace, or a default_country without a numbering plan, is a validation_failed.
  createDeployment: [...MASTER_IN_ORG, 'validation_failed', 'already_exists', ...JSON_BODY],
  listDeployments: [...IN_ORG, 'validation_failed'],
  getDeployment: IN_ORG,
  deleteDeployment: [...MASTER_IN_ORG, ...DELETE_BODY],
  updateDeployment: [...MASTER_IN_ORG, 'validation_failed', ...JSON_BODY],
  // The number is checked against E.164 by the schema (validation_failed, never invalid_phone_number).
  createPhoneNumber: [...MASTER_IN_ORG, 'validation_failed', 'already_exists', ...JSON_BODY],
  listPhoneNumbers: [...IN_ORG, 'validation_failed'],
  getPhoneNumber: IN_ORG,
  deletePhoneNumber: [...MASTER_IN_ORG, ...DELETE_BODY],
} as const satisfies Record<string, readonly ErrorCode[]>;
