import type { MultipartFile } from '@fastify/multipart';
import { AppError } from '../../../errors.js';

/** Most bytes of a transformation config file: it maps columns, it holds no data. */
export const TRANSFORMATION_MAX_BYTES = 1024 * 1024;

/** Reads an uploaded transformation config (small by nature) into a string; past `limit`, 422 invalid_transformation. */
export async function readTransformationPart(part: MultipartFile, limit = TRANSFORMATION_MAX_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of part.file as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      part.file.resume();
      throw new AppError('invalid_transformation', `The transformation file is larger than ${limit} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
