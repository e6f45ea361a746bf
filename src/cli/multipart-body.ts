import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';

/** One part of a multipart/form-data upload: a text field, or a file read from disk as it is sent. */
export type FormPart = { name: string; value: string } | { name: string; file: string; contentType?: string };

/** A multipart body ready to send: its exact length is known up front, its content is a stream. */
export interface MultipartBody {
  contentType: string;
  length: number;
  /** The bytes of the files alone, which the progress bar counts. */
  fileBytes: number;
  stream: Readable;
}

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.xls': 'application/vnd.ms-excel',
};

// As browsers do (WHATWG HTML, multipart/form-data encoding): quotes and line breaks in a name are percent-encoded.
function quoted(text: string): string {
  return `"${text.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`;
}

/**
 * Builds a multipart/form-data body that streams each file from disk as the socket takes it, so a
 * file of any size is sent with flat memory. `onFileBytes` is told of every chunk of file read.
 */
export async function multipartBody(
  parts: FormPart[],
  onFileBytes: (bytes: number) => void = () => undefined,
): Promise<MultipartBody> {
  const boundary = `----roster-${randomBytes(16).toString('hex')}`;
  const pieces: Array<Buffer | { file: string }> = [];
  let length = 0;
  let fileBytes = 0;
  const push = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    pieces.push(bytes);
    length += bytes.length;
  };
  for (const part of parts) {
    if ('value' in part) {
      push(`--${boundary}\r\nContent-Disposition: form-data; name=${quoted(part.name)}\r\n\r\n${part.value}\r\n`);
      continue;
    }
    const size = (await stat(part.file)).size;
    const filename = path.basename(part.file);
    const contentType =
      part.contentType ?? CONTENT_TYPES[path.extname(filename).toLowerCase()] ?? 'application/octet-stream';
    push(
      `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(part.name)}; filename=${quoted(filename)}\r\nContent-Type: ${contentType}\r\n\r\n`,
    );
    pieces.push({ file: part.file });
    length += size;
    fileBytes += size;
    push('\r\n');
  }
  push(`--${boundary}--\r\n`);

  async function* generate(): AsyncGenerator<Buffer> {
    for (const piece of pieces) {
      if (Buffer.isBuffer(piece)) {
        yield piece;
        continue;
      }
      for await (const chunk of createReadStream(piece.file)) {
        onFileBytes((chunk as Buffer).length);
        yield chunk as Buffer;
      }
    }
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    fileBytes,
    stream: Readable.from(generate(), { objectMode: false }),
  };
}
