// `cohorts upload --wait`: polling a cohort until it leaves processing, riding out a server that is
// briefly down or restarting.
import { type ApiClient, ApiError } from '../http-client.js';
import { rosterInvocation } from '../invocation.js';
import { type CohortProgress, cohortWaitProgress } from '../cohort-progress.js';
import { progressEnabled } from '../progress.js';
import { deploymentArgs, type DeploymentOptions } from './deployment-scope.js';

const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 2000;

/** What polling reads of a cohort. */
export interface PolledCohort {
  cohort_id: string;
  status: 'processing' | 'completed' | 'failed';
  progress?: CohortProgress;
}

// While waiting, these pass: a rate limit, a dependency down, a server restarting or unreachable.
const TRANSIENT_STATUSES = new Set([0, 429, 502, 503, 504]);
/** How long `--wait` rides out polls that fail in a row, unless --outage-timeout says otherwise. */
export const DEFAULT_OUTAGE_SECONDS = 120;
// A Retry-After is honoured up to this; a poll that gets no answer at all is given up after POLL_TIMEOUT_MS.
const RETRY_AFTER_MAX_MS = 30_000;
const POLL_TIMEOUT_MS = 30_000;

function outageWords(error: ApiError): string {
  return error.status === 0 ? 'server unreachable' : `server answered ${error.status} ${error.code}`;
}

/**
 * Polls the cohort, sooner at first and then every 2 s, until it is no longer `processing`. Polls that
 * fail in a row for a transient reason (refused or lost connection, 429, 502-504; 503's Retry-After
 * honoured) are ridden out for `outageSeconds`, with a notice on a terminal; the cohort keeps
 * processing on the server meanwhile. After that the last failure is thrown (exit 1).
 */
export async function waitForCohort<Cohort extends PolledCohort>(
  client: ApiClient,
  options: DeploymentOptions,
  cohort: Cohort,
  cohortPath: string,
  outageSeconds: number,
): Promise<Cohort> {
  const showing = progressEnabled(options);
  const progress = await cohortWaitProgress(`cohort ${cohort.cohort_id}`, cohort.status, showing);
  // With --json on a terminal there is no spinner: the notice is a line on stderr instead.
  const notice = (text: string) => {
    if (showing) progress.status(text);
    else if (process.stderr.isTTY) process.stderr.write(`${text}\n`);
  };
  const outageMs = outageSeconds * 1000;
  let current = cohort;
  let delay = POLL_FIRST_MS;
  let failingSince: number | undefined;
  try {
    while (current.status === 'processing') {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(POLL_MAX_MS, Math.round(delay * 1.5));
      try {
        current = await client.request<Cohort>('GET', cohortPath, undefined, { timeoutMs: POLL_TIMEOUT_MS });
        if (failingSince !== undefined && !showing)
          notice(`server answering again after ${Math.round((Date.now() - failingSince) / 1000)} s`);
        failingSince = undefined;
        progress.status(current.status);
        progress.report(current.progress);
      } catch (error) {
        if (!(error instanceof ApiError) || !TRANSIENT_STATUSES.has(error.status)) throw error;
        const now = Date.now();
        const firstFailure = failingSince === undefined;
        failingSince ??= now;
        const left = failingSince + outageMs - now;
        if (left <= 0) {
          const waited = Math.round((now - failingSince) / 1000);
          throw new ApiError(
            error.status,
            error.code,
            `${error.message} (gave up after ${waited} s of failed polls, --outage-timeout ${outageSeconds}; the cohort may still be processing: ${rosterInvocation()} cohorts get ${deploymentArgs(options)} ${cohort.cohort_id})`,
            error.details,
            error.body,
          );
        }
        delay = Math.min(left, Math.max(POLL_MAX_MS, Math.min(error.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS)));
        if (showing || firstFailure)
          notice(`${outageWords(error)}; retrying for up to ${Math.ceil(left / 1000)} s more`);
      }
    }
  } finally {
    progress.stop();
  }
  return current;
}
