import { availableParallelism } from 'node:os';
import path from 'node:path';

/** Every setting Roster reads, validated once at start; `.env.example` mirrors this list. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Bytes kept free on dataDir's disk: ingest stops and uploads are refused below it (0 = off). */
  readonly diskReserveBytes: number;
  /** postgres://… switches storage to PostgreSQL; unset means embedded SQLite under dataDir. */
  readonly databaseUrl: string | undefined;
  readonly masterKey: string | undefined;
  readonly production: boolean;
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  readonly rateLimit: {
    readonly max: number;
    readonly windowMs: number;
    /** The caller lookup's own budget per key and window, counted apart from `max`; 0 = unlimited (and `max` 0 turns both off). */
    readonly lookupMax: number;
    /** redis://… shares the counters between API instances; unset, each instance counts alone. */
    readonly redisUrl: string | undefined;
  };
  readonly shutdownTimeoutMs: number;
  readonly cohorts: {
    /** Largest cohort file accepted (413 file_too_large beyond). */
    readonly maxUploadBytes: number;
    readonly maxColumns: number;
    readonly maxFieldLength: number;
    /** Longest CSV record, in bytes of UTF-8; a longer one (an unclosed quote, a runaway line) stops the read with invalid_csv. */
    readonly maxRowBytes: number;
    readonly maxRows: number;
    /** Rows written to the database per transaction while ingesting. */
    readonly batchSize: number;
    /** Worker threads that transform rows of large files (read and written on an ingest thread); 0 keeps everything on the main thread. */
    readonly workers: number;
  };
  /** Cohorts created from a hosted CSV (`source.type: pre_signed_url`): Roster downloads it itself. */
  readonly urlSource: {
    /** Bounds one whole download: connecting, every redirect and the body. */
    readonly timeoutMs: number;
    /** Hosts (exact hostname or IP) that skip the private-address check; for tests and trusted in-house stores. */
    readonly allowHosts: readonly string[];
  };
  readonly batches: {
    readonly maxBytes: number;
    readonly maxRows: number;
    readonly maxColumns: number;
    /** ROSTER_MAX_ROW_BYTES as well: one bound for every CSV Roster reads. */
    readonly maxRowBytes: number;
    readonly maxZipEntries: number;
    readonly maxUncompressedBytes: number;
  };
  /** S3-compatible object storage for files; undefined keeps them on local disk under dataDir. */
  readonly s3: S3Config | undefined;
  /** Idempotency-Key on creates. */
  readonly idempotency: {
    /** How long a key's answer is kept for repeats (ROSTER_IDEMPOTENCY_TTL_HOURS). */
    readonly ttlMs: number;
    /** How long a running request holds its key without renewing it (renewed at a third of it). */
    readonly leaseMs: number;
  };
  /** Webhook deliveries. */
  readonly webhooks: {
    /** The first retry's delay; each later one doubles, up to an hour (ROSTER_WEBHOOK_RETRY_BASE_MS). */
    readonly retryBaseMs: number;
    /** How long after its first attempt a delivery is still retried (ROSTER_WEBHOOK_RETRY_HOURS). */
    readonly retryWindowMs: number;
    /** Deliveries each job runner sends at once, in slots of their own beside the other jobs' (ROSTER_WEBHOOK_CONCURRENCY). */
    readonly concurrency: number;
  };
  /** Cohort retention runs: how often each deployment with a policy is looked at (ROSTER_RETENTION_INTERVAL_MINUTES). */
  readonly retention: {
    readonly intervalMs: number;
    /** Audit events older than this many days are pruned; 0 keeps them (ROSTER_AUDIT_RETENTION_DAYS). */
    readonly auditDays: number;
    /** Finished webhook deliveries older than this many days are pruned; 0 keeps them (ROSTER_WEBHOOK_DELIVERY_RETENTION_DAYS). */
    readonly deliveryDays: number;
  };
  readonly jobs: {
    readonly concurrency: number;
    readonly maxAttempts: number;
    readonly leaseMs: number;
    readonly pollMs: number;
    readonly backoffMs: number;
  };
}

export interface S3Config {
  /** e.g. https://s3.eu-west-1.amazonaws.com or http://minio:9000; requests are path-style. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  /** Never logged or printed. */
  readonly secretAccessKey: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    return value;
  };
  const str = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };

  const databaseUrl = str('ROSTER_DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(
      'ROSTER_DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for embedded SQLite)',
    );
  }
  const masterKey = str('ROSTER_MASTER_KEY');
  if (masterKey !== undefined && masterKey.length < 24) {
    problems.push('ROSTER_MASTER_KEY must be at least 24 characters long');
  }
  if (masterKey?.startsWith('rk_'))
    problems.push('ROSTER_MASTER_KEY must not start with "rk_" (that marks org API keys)');
  const allowHosts = (str('ROSTER_URL_SOURCE_ALLOW_HOSTS') ?? '')
    .split(',')
    .map((host) =>
      host
        .trim()
        .toLowerCase()
        .replace(/^\[(.*)\]$/, '$1'),
    )
    .filter((host) => host !== '');
  for (const host of allowHosts) {
    if (!/^[a-z0-9._:-]+$/.test(host))
      problems.push(
        `ROSTER_URL_SOURCE_ALLOW_HOSTS must list hostnames or IP addresses separated by commas, got "${host}"`,
      );
  }
  const s3 = s3Settings(str, problems);
  const redisUrl = str('ROSTER_REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/\S+$/.test(redisUrl))
    problems.push('ROSTER_REDIS_URL must start with redis:// or rediss://');
  const logLevel = str('ROSTER_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`ROSTER_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  // Parsing holds at most one record of this size, whatever the file; see csv-source.ts.
  const maxRowBytes = int('ROSTER_MAX_ROW_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024);

  const config: Config = {
    host: str('ROSTER_HOST') ?? '127.0.0.1',
    port: int('ROSTER_PORT', 8080, 0, 65535),
    dataDir: path.resolve(cwd, str('ROSTER_DATA_DIR') ?? './data'),
    diskReserveBytes: int('ROSTER_DISK_RESERVE_MB', 64, 0, 1024 * 1024) * 1024 * 1024,
    databaseUrl,
    masterKey,
    production: str('NODE_ENV') === 'production',
    logLevel,
    bodyLimitBytes: int('ROSTER_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    rateLimit: {
      max: int('ROSTER_RATE_LIMIT_MAX', 6000, 0, 10_000_000),
      windowMs: int('ROSTER_RATE_LIMIT_WINDOW_MS', 60_000, 1000, 3_600_000),
      lookupMax: int('ROSTER_LOOKUP_RATE_LIMIT_MAX', 60_000, 0, 100_000_000),
      redisUrl,
    },
    shutdownTimeoutMs: int('ROSTER_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    cohorts: {
      maxUploadBytes: int('ROSTER_MAX_UPLOAD_BYTES', 512 * 1024 * 1024, 1024, 64 * 1024 * 1024 * 1024),
      maxColumns: int('ROSTER_MAX_COLUMNS', 500, 1, 10_000),
      maxFieldLength: int('ROSTER_MAX_FIELD_LENGTH', 131_072, 16, 16 * 1024 * 1024),
      maxRowBytes,
      maxRows: int('ROSTER_MAX_ROWS', 10_000_000, 1, 1_000_000_000),
      batchSize: int('ROSTER_INGEST_BATCH_SIZE', 1000, 1, 20_000),
      workers: int('ROSTER_INGEST_WORKERS', availableParallelism(), 0, 64),
    },
    urlSource: {
      timeoutMs: int('ROSTER_URL_SOURCE_TIMEOUT_MS', 120_000, 100, 3_600_000),
      allowHosts: Object.freeze(allowHosts),
    },
    batches: {
      maxBytes: int('ROSTER_BATCH_MAX_BYTES', 50 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
      maxRows: int('ROSTER_BATCH_MAX_ROWS', 200_000, 1, 10_000_000),
      maxColumns: int('ROSTER_BATCH_MAX_COLUMNS', 200, 1, 10_000),
      maxRowBytes,
      maxZipEntries: int('ROSTER_BATCH_MAX_ZIP_ENTRIES', 1000, 1, 100_000),
      maxUncompressedBytes: int(
        'ROSTER_BATCH_MAX_UNCOMPRESSED_BYTES',
        100 * 1024 * 1024,
        1024,
        16 * 1024 * 1024 * 1024,
      ),
    },
    idempotency: {
      ttlMs: int('ROSTER_IDEMPOTENCY_TTL_HOURS', 24, 1, 24 * 30) * 3_600_000,
      leaseMs: int('ROSTER_IDEMPOTENCY_LEASE_MS', 30_000, 300, 3_600_000),
    },
    webhooks: {
      retryBaseMs: int('ROSTER_WEBHOOK_RETRY_BASE_MS', 30_000, 10, 3_600_000),
      retryWindowMs: int('ROSTER_WEBHOOK_RETRY_HOURS', 24, 1, 24 * 7) * 3_600_000,
      concurrency: int('ROSTER_WEBHOOK_CONCURRENCY', 4, 1, 64),
    },
    retention: {
      intervalMs: int('ROSTER_RETENTION_INTERVAL_MINUTES', 60, 1, 7 * 24 * 60) * 60_000,
      auditDays: int('ROSTER_AUDIT_RETENTION_DAYS', 365, 0, 36_500),
      deliveryDays: int('ROSTER_WEBHOOK_DELIVERY_RETENTION_DAYS', 30, 0, 36_500),
    },
    jobs: {
      concurrency: int('ROSTER_JOB_CONCURRENCY', 2, 1, 64),
      maxAttempts: int('ROSTER_JOB_MAX_ATTEMPTS', 5, 1, 100),
      leaseMs: int('ROSTER_JOB_LEASE_MS', 30_000, 200, 3_600_000),
      pollMs: int('ROSTER_JOB_POLL_MS', 500, 10, 60_000),
      backoffMs: int('ROSTER_JOB_BACKOFF_MS', 1000, 0, 3_600_000),
    },
    s3,
  };
  if (maxRowBytes < config.cohorts.maxFieldLength) {
    problems.push(
      `ROSTER_MAX_ROW_BYTES (${maxRowBytes}) must be at least ROSTER_MAX_FIELD_LENGTH (${config.cohorts.maxFieldLength}): a row holds at least one field`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...config,
    rateLimit: Object.freeze(config.rateLimit),
    cohorts: Object.freeze(config.cohorts),
    batches: Object.freeze(config.batches),
    urlSource: Object.freeze(config.urlSource),
    idempotency: Object.freeze(config.idempotency),
    webhooks: Object.freeze(config.webhooks),
    retention: Object.freeze(config.retention),
    jobs: Object.freeze(config.jobs),
    s3: s3 && Object.freeze(s3),
  });
}

/** The S3 group: all of it when ROSTER_S3_ENDPOINT is set (bucket and credentials then required), else undefined. */
function s3Settings(str: (name: string) => string | undefined, problems: string[]): S3Config | undefined {
  const endpoint = str('ROSTER_S3_ENDPOINT');
  const bucket = str('ROSTER_S3_BUCKET');
  const region = str('ROSTER_S3_REGION') ?? 'us-east-1';
  const accessKeyId = str('ROSTER_S3_ACCESS_KEY_ID');
  const secretAccessKey = str('ROSTER_S3_SECRET_ACCESS_KEY');
  if (endpoint === undefined) {
    if (bucket !== undefined || accessKeyId !== undefined || secretAccessKey !== undefined) {
      problems.push(
        'ROSTER_S3_BUCKET and the ROSTER_S3_ credentials take effect only with ROSTER_S3_ENDPOINT; set it or unset them',
      );
    }
    return undefined;
  }
  if (!/^https?:\/\/[^\s/]+/.test(endpoint))
    problems.push(`ROSTER_S3_ENDPOINT must be an http:// or https:// URL, got "${endpoint}"`);
  if (bucket === undefined) problems.push('ROSTER_S3_BUCKET is required with ROSTER_S3_ENDPOINT');
  else if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    problems.push(`ROSTER_S3_BUCKET must be a bucket name (3-63 of a-z, 0-9, '.', '-'), got "${bucket}"`);
  if (!/^[a-z0-9-]+$/.test(region))
    problems.push(`ROSTER_S3_REGION must be a region name like us-east-1, got "${region}"`);
  if (accessKeyId === undefined) problems.push('ROSTER_S3_ACCESS_KEY_ID is required with ROSTER_S3_ENDPOINT');
  if (secretAccessKey === undefined) problems.push('ROSTER_S3_SECRET_ACCESS_KEY is required with ROSTER_S3_ENDPOINT');
  return {
    endpoint,
    bucket: bucket ?? '',
    region,
    accessKeyId: accessKeyId ?? '',
    secretAccessKey: secretAccessKey ?? '',
  };
}
