import { createHash, randomUUID } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import { AppError, type ErrorCode } from '../../errors.js';
import type { RecordCreated } from '../../services/record-created.js';
import type { UploadLimits, UploadPart, UploadParts } from '../../services/upload-parts.js';
import * as keys from '../../storage/repositories/idempotency-repository.js';
import type { Database } from '../../storage/schema.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A create that takes `Idempotency-Key`: a repeat gets the first answer again (plugins/idempotency.ts). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** The key this request holds while it runs, or the answer it replays. */
    idempotency: IdempotencyClaim | undefined;
  }
}

/** The codes an idempotent route adds to its own. */
export const IDEMPOTENCY_ERROR_CODES: readonly ErrorCode[] = ['idempotency_key_reused', 'idempotency_in_progress'];

/** The header, and what it may hold: 1–255 printable ASCII characters. */
const HEADER = 'idempotency-key';
const KEY_PATTERN = '^[\\x20-\\x7E]{1,255}$';

/** What a repeat's form may hold while it is read to compare with the first (the largest of the uploads' limits). */
function replayLimits(config: Config): UploadLimits {
  const fileSize = Math.max(config.cohorts.maxUploadBytes, config.batches.maxBytes);
  return { fileSize, files: 2, fields: 20, fieldSize: 64 * 1024, parts: 24, headerPairs: 200 };
}

/**
 * A form's hash, taken while the intake reads it: each part's name and value, or its name, file name
 * and the sha256 of its bytes, in the order sent. The boundary is not in it (a client picks a new one
 * for every request), so a repeat of the same form hashes the same. Complete once every part has been
 * read to its end.
 */
class FormHash {
  private readonly entries: string[] = [];
  private pendingFiles = 0;
  private ended = false;

  wrap(parts: UploadParts): UploadParts {
    const self = this;
    return (async function* hashed() {
      for await (const part of parts) yield self.take(part);
      self.ended = true;
    })();
  }

  private take(part: UploadPart): UploadPart {
    const at = this.entries.push('') - 1;
    if (part.type === 'field') {
      this.entries[at] = JSON.stringify(['field', part.fieldname, String(part.value)]);
      return part;
    }
    const bytes = createHash('sha256');
    this.pendingFiles++;
    const entries = this.entries;
    const done = () => this.pendingFiles--;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes.update(chunk);
        callback(null, chunk);
      },
      flush(callback) {
        entries[at] = JSON.stringify(['file', part.fieldname, part.filename, bytes.digest('hex')]);
        done();
        callback();
      },
    });
    // An error of the file (over its size limit, cut off) reaches whoever reads the tap, as it would
    // have reached them from the file; a reader that stops early stops the file too.
    pipeline(part.file, tap, () => {});
    return { ...part, file: tap };
  }

  /** The hash, once every part has been read to its end; null before. */
  digest(): string | null {
    if (!this.ended || this.pendingFiles > 0) return null;
    return sha256(this.entries.join('\n'));
  }

  /** Reads a whole form (a repeat's, to compare with the first's), dropping its files' bytes. */
  async drain(parts: UploadParts): Promise<string | null> {
    for await (const part of this.wrap(parts)) {
      if (part.type === 'file') {
        part.file.resume();
        await new Promise<void>((resolve, reject) => {
          part.file.once('end', resolve);
          part.file.once('error', reject);
        });
      }
    }
    return this.digest();
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A JSON body's hash: the body as sent, whitespace aside (keys stay in the order sent). */
function jsonHash(body: unknown): string {
  try {
    return sha256(JSON.stringify(body ?? null));
  } catch {
    // Nested deeper than JSON.stringify can go: the route would refuse the body too.
    throw new AppError('validation_failed', 'The request body is nested too deeply.');
  }
}

export class IdempotencyClaim {
  /** running: this request holds the key; recovered: it answers what a dead holder created; replay: a stored answer. */
  state: 'running' | 'recovered' | 'replay';
  readonly form: FormHash | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    readonly ref: keys.KeyRef,
    readonly holder: string,
    state: 'running' | 'recovered' | 'replay',
    /** The JSON body's hash, or (recovered) the hash recorded with the resource. */
    readonly knownHash: string | null,
    multipart: boolean,
  ) {
    this.state = state;
    this.form = multipart && state === 'running' ? new FormHash() : undefined;
  }

  /** The request's hash as far as it is known: a form's once it has been read to its end. */
  requestHash(): string | null {
    return this.form ? this.form.digest() : this.knownHash;
  }

  keepAlive(db: Kysely<Database>, leaseMs: number, log: FastifyRequest['log']): void {
    this.heartbeat = setInterval(
      () => {
        const until = new Date(Date.now() + leaseMs).toISOString();
        keys.renewClaim(db, this.ref, this.holder, until).then(
          (held) => {
            if (!held) log.warn('this request no longer holds its Idempotency-Key (it ran past its lease)');
          },
          (error: unknown) => log.warn({ err: error }, 'the Idempotency-Key lease could not be renewed'),
        );
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    this.heartbeat.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function keyReused(key: string, first: { method: string; path: string }, request: FastifyRequest): AppError {
  const sameTarget = first.method === request.method && first.path === request.url;
  return new AppError(
    'idempotency_key_reused',
    `Idempotency-Key '${key}' was first used for ${sameTarget ? 'this route with a different body' : `${first.method} ${first.path}`}. Send a new key for a new request.`,
  );
}

function inProgress(key: string): AppError {
  return new AppError(
    'idempotency_in_progress',
    `A request with Idempotency-Key '${key}' is still being handled. Send it again once that one has been answered.`,
  );
}

/**
 * The function a create's service calls in the transaction that creates its resource: it records the
 * answer a repeat gives if this process dies before answering. Undefined without an Idempotency-Key.
 */
export function recordCreated<T>(
  request: FastifyRequest,
  answer: (created: T) => { status: number; body: unknown },
): RecordCreated<T> | undefined {
  const claim = request.idempotency;
  if (claim === undefined || claim.state !== 'running') return undefined;
  return async (trx, created) => {
    const { status, body } = answer(created);
    const held = await keys.recordRecovery(trx, claim.ref, claim.holder, {
      status,
      body: JSON.stringify(body),
      requestHash: claim.requestHash(),
    });
    // Another request took the key over while this one stalled past its lease: it answers, and this
    // create is rolled back with its transaction.
    if (!held) throw inProgress(claim.ref.key);
  };
}

/** Wraps a form's parts so that its hash is taken as the intake reads it. */
export function hashedParts(request: FastifyRequest, parts: UploadParts): UploadParts {
  const form = request.idempotency?.form;
  return form ? form.wrap(parts) : parts;
}

/** Headers an answer keeps for its repeats. */
const KEPT_HEADERS = ['content-type', 'location'] as const;

function replay(reply: FastifyReply, row: keys.IdempotencyRow): FastifyReply {
  const headers = JSON.parse(row.response_headers ?? '{}') as Record<string, string>;
  return reply
    .code(row.response_status!)
    .headers({ ...headers, 'idempotent-replayed': 'true' })
    .send(row.response_body);
}

/**
 * `Idempotency-Key` on the routes marked `config: { idempotent: true }`, with Stripe's semantics:
 * the first request with a key claims it (per org) before its handler runs and stores its answer
 * when that is a 2xx; a repeat with the same method, path and body gets that answer again, byte for
 * byte, with `Idempotent-Replayed: true`; another request with the key is refused with 422
 * idempotency_key_reused; a repeat while the first still runs gets 409 idempotency_in_progress. An
 * answer that is not 2xx lets the key go. A running request renews its claim; when its process dies
 * the claim lapses, and a repeat either answers what it created (recorded in the create's own
 * transaction, `recordCreated`) or, when it created nothing, runs again.
 */
export const idempotencyPlugin = fp(async (app: FastifyInstance, options: { db: Kysely<Database>; config: Config }) => {
  const { db, config } = options;
  const { ttlMs, leaseMs } = config.idempotency;
  app.decorateRequest('idempotency', undefined);

  app.addHook('onRoute', (route) => {
    const routeConfig = (route.config ?? {}) as { idempotent?: boolean; errorCodes?: readonly ErrorCode[] };
    if (routeConfig.idempotent !== true) return;
    routeConfig.errorCodes = [...new Set([...(routeConfig.errorCodes ?? []), ...IDEMPOTENCY_ERROR_CODES])];
    const schema = (route.schema ?? {}) as { headers?: unknown };
    route.schema = {
      ...route.schema,
      headers: schema.headers ?? {
        type: 'object',
        properties: {
          [HEADER]: {
            type: 'string',
            pattern: KEY_PATTERN,
            description:
              'Makes the create safe to send again: a repeat within ROSTER_IDEMPOTENCY_TTL_HOURS with the same key, method, path and body answers the first answer again (Idempotent-Replayed: true) instead of creating anything. 1–255 printable ASCII characters, per org.',
          },
        },
      },
    };
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.idempotent !== true || request.principal === null) return;
    const header = request.headers[HEADER];
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined) return;
    const principal = request.principal;
    const ref: keys.KeyRef = { orgId: principal.kind === 'key' ? principal.orgId : '', key };
    const multipart = typeof request.isMultipart === 'function' && request.isMultipart();
    const bodyHash = multipart ? null : jsonHash(request.body);
    const holder = randomUUID();
    /** A repeat's form, once read to compare (it cannot be read twice). */
    let drained: { hash: string | null } | undefined;
    const sameBody = async (first: keys.IdempotencyRow): Promise<void> => {
      if (first.method !== request.method || first.path !== request.url) throw keyReused(key, first, request);
      let hash = bodyHash;
      if (multipart) {
        drained ??= {
          hash: await new FormHash().drain(request.parts({ limits: replayLimits(config) })),
        };
        hash = drained.hash;
      }
      // A form whose hash was not taken (its intake stopped reading early) is compared by method and path.
      if (first.request_hash !== null && hash !== first.request_hash) throw keyReused(key, first, request);
    };
    const start = (state: 'running' | 'recovered', knownHash: string | null): IdempotencyClaim => {
      const claim = new IdempotencyClaim(ref, holder, state, knownHash, multipart);
      request.idempotency = claim;
      claim.keepAlive(db, leaseMs, request.log);
      return claim;
    };

    for (let round = 0; round < 5; round++) {
      const now = Date.now();
      const nowIso = new Date(now).toISOString();
      const claim: keys.NewClaim = {
        method: request.method,
        path: request.url,
        requestHash: bodyHash,
        holder,
        now: nowIso,
        lockedUntil: new Date(now + leaseMs).toISOString(),
        expiresAt: new Date(now + ttlMs).toISOString(),
      };
      if (drained === undefined && (await keys.insertClaim(db, ref, claim))) {
        await keys.deleteExpiredKeys(db, nowIso);
        start('running', bodyHash);
        return;
      }
      const seen = await keys.findKey(db, ref);
      if (seen === undefined) continue;
      const lapsed = seen.holder === null || (seen.locked_until ?? '') <= nowIso;
      if (seen.expires_at <= nowIso && lapsed) {
        // Past its retention: the key is free for a new request.
        if (drained === undefined && (await keys.takeOver(db, seen, claim))) {
          start('running', bodyHash);
          return;
        }
        if (drained !== undefined) throw inProgress(key);
        continue;
      }
      if (seen.response_status !== null) {
        await sameBody(seen);
        request.idempotency = new IdempotencyClaim(ref, holder, 'replay', null, false);
        return replay(reply, seen);
      }
      if (!lapsed) {
        if (seen.method !== request.method || seen.path !== request.url) throw keyReused(key, seen, request);
        if (bodyHash !== null && seen.request_hash !== null && bodyHash !== seen.request_hash)
          throw keyReused(key, seen, request);
        throw inProgress(key);
      }
      // Its holder died (it stopped renewing the claim) before answering.
      if (seen.recovery_status !== null) {
        await sameBody(seen);
        const until = new Date(now + leaseMs).toISOString();
        if (await keys.takeOverRecovered(db, seen, holder, until)) {
          start('recovered', seen.request_hash);
          return reply
            .code(seen.recovery_status)
            .header('idempotent-replayed', 'true')
            .send(JSON.parse(seen.recovery_body ?? 'null'));
        }
        continue;
      }
      if (drained === undefined && (await keys.takeOver(db, seen, claim))) {
        start('running', bodyHash);
        return;
      }
      if (drained !== undefined) throw inProgress(key);
    }
    throw inProgress(key);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (claim === undefined || claim.state === 'replay') return payload;
    claim.stop();
    request.idempotency = undefined;
    const status = reply.statusCode;
    try {
      if (status >= 200 && status < 300 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
        const headers: Record<string, string> = {};
        for (const name of KEPT_HEADERS) {
          const value = reply.getHeader(name);
          if (value !== undefined) headers[name] = String(value);
        }
        const stored = await keys.storeAnswer(db, claim.ref, claim.holder, {
          status,
          headers: JSON.stringify(headers),
          body: String(payload),
          requestHash: claim.requestHash(),
        });
        if (!stored) request.log.warn('the answer was not kept for its Idempotency-Key: another request holds the key');
      } else {
        await keys.releaseClaim(db, claim.ref, claim.holder, new Date().toISOString());
      }
    } catch (error) {
      // The answer still goes out. The claim lapses after its lease; a repeat then answers what this
      // request created (recorded with it), or runs again when it created nothing.
      request.log.error({ err: error }, 'the Idempotency-Key could not be updated');
    }
    return payload;
  });

  // Whatever happened to the answer, a finished request stops renewing its claim.
  app.addHook('onResponse', async (request) => {
    request.idempotency?.stop();
  });
});
