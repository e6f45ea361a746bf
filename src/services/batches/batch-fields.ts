import { parseBatchSchedule, type BatchSchedule } from '../../domain/scheduling/calling-window.js';
import { AppError } from '../../errors.js';

/** The vendor's form fields, as a browser form sends them: every value is a string. */
export const BATCH_FIELDS = [
  'userId',
  'batchName',
  'batchType',
  'callingNumbers',
  'enableDNC',
  'type',
  'retry',
  'delay',
  'timezone',
  'callingHour',
  'allowedDays',
] as const;
export type BatchFieldName = (typeof BATCH_FIELDS)[number];

export interface BatchFields {
  userId: string;
  batchName: string;
  batchType: 'outbound' | 'mixed';
  callingNumbers: string[];
  enableDnc: boolean;
  /** type="true": import valid rows and report the rest; "false" (default): refuse the file on any invalid row. */
  skipInvalid: boolean;
  schedule: BatchSchedule;
}

type Problem = { field: string; message: string };

function flag(name: string, raw: string | undefined, problems: Problem[]): boolean {
  if (raw === undefined || raw === '') return false;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  problems.push({ field: name, message: `${name} must be "true" or "false", got "${raw}"` });
  return false;
}

/**
 * Checks every field at once and answers 400 listing each problem: a missing userId or batchName,
 * a userId that is not 24 hex characters, an unknown batchType, callingNumbers that are not a JSON
 * array of ids, flags that are not "true"/"false", and every schedule problem. `retry` and `delay`
 * mean what the vendor's createBatch says, on every route that parses them here: retries after the
 * first call (0 calls once) and seconds between attempts (parseBatchSchedule holds the ranges).
 */
export function parseBatchFields(raw: Partial<Record<BatchFieldName, string>>): BatchFields {
  const problems: Problem[] = [];
  const userId = raw.userId?.trim() ?? '';
  if (!userId) problems.push({ field: 'userId', message: 'userId is required' });
  else if (!/^[0-9a-f]{24}$/.test(userId))
    problems.push({
      field: 'userId',
      message: `userId '${userId.slice(0, 40)}' is not a valid user id (24 hexadecimal characters)`,
    });
  const batchName = raw.batchName?.trim() ?? '';
  if (!batchName) problems.push({ field: 'batchName', message: 'batchName is required' });
  else if (batchName.length > 200)
    problems.push({ field: 'batchName', message: 'batchName is longer than 200 characters' });
  const batchType = raw.batchType?.trim() || 'outbound';
  if (batchType !== 'outbound' && batchType !== 'mixed')
    problems.push({ field: 'batchType', message: `batchType must be "outbound" or "mixed", got "${batchType}"` });
  let callingNumbers: string[] = [];
  if (!raw.callingNumbers?.trim()) {
    problems.push({
      field: 'callingNumbers',
      message: 'callingNumbers is required: a JSON array of phone-number ids, e.g. ["64e5f12345abcdef87654321"]',
    });
  } else {
    try {
      const parsed: unknown = JSON.parse(raw.callingNumbers);
      if (
        !Array.isArray(parsed) ||
        parsed.length === 0 ||
        !parsed.every((id) => typeof id === 'string' && /^[0-9a-f]{24}$/.test(id))
      ) {
        problems.push({
          field: 'callingNumbers',
          message: 'callingNumbers must be a non-empty JSON array of 24-hex phone-number ids',
        });
      } else {
        callingNumbers = [...new Set(parsed as string[])];
      }
    } catch (error) {
      problems.push({
        field: 'callingNumbers',
        message: `callingNumbers is not valid JSON: ${(error as Error).message}`,
      });
    }
  }
  const enableDnc = flag('enableDNC', raw.enableDNC, problems);
  const skipInvalid = flag('type', raw.type, problems);
  const schedule = parseBatchSchedule({
    timezone: raw.timezone,
    callingHour: raw.callingHour,
    allowedDays: raw.allowedDays,
    retry: raw.retry,
    delay: raw.delay,
  });
  if (!schedule.ok) problems.push(...schedule.problems);
  if (problems.length > 0 || !schedule.ok) {
    throw new AppError('invalid_batch_field', problems.map((p) => p.message).join('; '), problems);
  }
  return {
    userId,
    batchName,
    batchType: batchType as 'outbound' | 'mixed',
    callingNumbers,
    enableDnc,
    skipInvalid,
    schedule: schedule.schedule,
  };
}
