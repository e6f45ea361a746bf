import type { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { type MappingSuggestion, suggestMapping } from '../../domain/ingest/column-matching.js';
import { detectDelimiter } from '../../domain/ingest/csv-cells.js';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { AppError } from '../../errors.js';
import { getAgent, getDeployment } from '../tenancy-service.js';
import { notMultipart, skipFile, type FormSource, type UploadParts } from '../upload-parts.js';
import type { CohortDeps } from './cohort-deps.js';

/** How much of the CSV is read for its header: the rest of the file is never looked at. */
export const HEADER_READ_BYTES = 64 * 1024;

/** The multipart limits of a mapping suggestion: one file part (its size is bounded by the reading, not here) and a few fields. */
export function mappingSuggestionLimits(maxUploadBytes: number) {
  return { fileSize: maxUploadBytes, files: 1, fields: 8, fieldSize: 4096, parts: 10, headerPairs: 200 };
}

export interface MappingSuggestionView extends MappingSuggestion {
  columns: string[];
}

/** Reads at most `limit` bytes of a stream, then stops reading it. */
async function readHead(file: Readable, limit: number): Promise<{ head: Buffer; whole: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of file as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) return { head: Buffer.concat(chunks).subarray(0, limit), whole: false };
  }
  return { head: Buffer.concat(chunks), whole: true };
}

/** The text of a file's first bytes, decoded as an upload's are: a BOM decides, else UTF-8 when it decodes, else Windows-1252. */
function decodeHead(head: Buffer, whole: boolean): string {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return head.subarray(3).toString('utf8');
  if (head[0] === 0xff && head[1] === 0xfe) return iconv.decode(head.subarray(2), 'utf-16le');
  if (head[0] === 0xfe && head[1] === 0xff) return iconv.decode(head.subarray(2), 'utf-16be');
  try {
    // A cut may split a character: only a complete file must end on a whole one.
    return new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !whole });
  } catch {
    return iconv.decode(head, 'windows-1252');
  }
}

/** The column names of a CSV's header row, read from the file's first bytes; 422 when there is none to read. */
export function headerColumns(head: Buffer, whole: boolean): string[] {
  const text = decodeHead(head, whole);
  const firstLine = text.split(/\r?\n/u, 1)[0] ?? '';
  if (firstLine.trim() === '') throw new AppError('empty_header', 'The file is empty: it has no header row.');
  const parsed = Papa.parse<string[]>(text, { delimiter: detectDelimiter(firstLine), preview: 1 });
  const cursor = parsed.meta.cursor;
  if (!whole && cursor >= text.length)
    throw new AppError(
      'invalid_csv',
      `The header row is longer than ${HEADER_READ_BYTES / 1024} KB (or opens a quote it never closes).`,
    );
  return (parsed.data[0] ?? []).map((name) => name.trim());
}

/**
 * Suggests a transformation config for a CSV from its header row alone (POST …/cohorts/mapping-suggestion
 * and the console's mapper): reads the `cohort_file` part's first 64 KB, then stops reading the request.
 */
export async function suggestCohortMapping(
  deps: CohortDeps,
  scope: DeploymentScope,
  upload: { parts: UploadParts | undefined; source: FormSource },
): Promise<MappingSuggestionView> {
  if (!upload.parts) throw notMultipart(upload.source, 'cohort_file');
  const deployment = await getDeployment(deps.db, scope.orgId, scope.workspaceId, scope.deploymentId);
  const agent = await getAgent(deps.db, scope.orgId, scope.workspaceId, deployment.agent_id);
  for await (const part of upload.parts) {
    if (part.type === 'file' && part.fieldname === 'cohort_file') {
      const { head, whole } = await readHead(part.file, HEADER_READ_BYTES);
      const columns = headerColumns(head, whole);
      return { columns, ...suggestMapping(columns, agent.variables) };
    }
    skipFile(part);
  }
  throw new AppError('missing_file', 'Send the CSV as the cohort_file part.', [
    { field: '/body/cohort_file', message: 'is required (the CSV file)' },
  ]);
}
