import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { mappingSuggestionLimits, suggestCohortMapping } from '../../services/cohorts/mapping-suggestion.js';
import { consoleUploadParts } from './console-forms.js';
import type { ConsoleDeps } from './console-plugin.js';
import { DeploymentParams } from './console-schemas.js';
import { deploymentOf } from './workspace-pages.js';

/**
 * The console mapper's suggestion: the page posts the chosen CSV's first 64 KB and gets the API's
 * answer (the same matching code), so the browser holds no matching rules of its own.
 */
export async function cohortMappingRoute(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const deps = options.deps.cohorts;
  const base = '/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id';
  app.post(
    `${base}/cohorts/mapping-suggestion`,
    { schema: { params: DeploymentParams }, config: { audit: false } },
    async (request, reply) => {
      const { scope } = await deploymentOf(request, options.deps);
      const parts = consoleUploadParts(request, mappingSuggestionLimits(deps.config.cohorts.maxUploadBytes));
      const answer = await suggestCohortMapping(deps, scope, { parts, source: 'browser' });
      return reply.header('cache-control', 'no-store').header('connection', 'close').send(answer);
    },
  );
}
