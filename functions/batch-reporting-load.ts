/**
 * The batch pipeline's reporting-database load (the "Load reporting database" task of
 * workflows/batch-pipeline.ts): applies one batch COPY manifest to Aurora's `reporting`
 * schema with the aggregator's own pieces (services/aggregator/src: readManifestFiles,
 * manifestFacts, applySchema, applyManifest), so the streaming and batch paths upsert
 * identically. The aggregator's processMessage takes an S3 notification body and keeps
 * only `manifests/` keys; the state machine hands over the key itself, so this module
 * calls the pieces under processMessage in the same order.
 *
 * Idempotent: applyManifest records the manifest key in reporting.manifest_loads in the
 * same transaction as its facts, so a re-run (a Step Functions retry, a re-driven
 * execution) writes nothing and reports applied=false. A missing manifest is a
 * ManifestMissing error naming the object, which the state machine's Catch publishes.
 *
 * The database password is read from Secrets Manager at run time (DB_SECRET_ARN in the
 * environment; the value never is), once per cold start, and again once when the server
 * rejects it (RDS rotates managed master secrets).
 */
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Pool, PoolConfig } from "pg";
import { readManifestFiles } from "../services/aggregator/src/manifest-files";
import { databaseCredentials } from "../services/aggregator/src/settings";
import { manifestFacts } from "../services/aggregator/src/staged-rows";
import { LoadResult, applyManifest, applySchema } from "../services/aggregator/src/store";
import { flagEnv, integerEnv } from "../services/shared/env";
import { DATA_PATH_CLIENT_SETTINGS, Environment, LogLine, logJson, requiredEnv } from "./data-path-runtime";
import { NamedError, namedError } from "./errors";
import { ReportingSettings, SecretReader, poolConfig, secretsManagerReader } from "./reporting-api";

/** The batch manifests' prefix (the curation job writes `batch/manifests/<run id>.manifest`). */
export const BATCH_MANIFEST_KEY = /^batch\/manifests\/[^/]+\.manifest$/;

export interface BatchReportingLoadRequest {
  readonly bucket: string;
  readonly manifestKey: string;
}

export interface BatchReportingLoadSummary extends LoadResult {
  readonly manifestKey: string;
  readonly files: number;
  readonly rows: number;
  /** order.created facts in the manifest (one per event id). */
  readonly orderEvents: number;
  /** Order rows refused by the business rules (logged with their reasons). */
  readonly rejected: number;
  /** Rows of other event types: not this aggregation's input. */
  readonly otherEvents: number;
  readonly skippedFiles: number;
}

/** A request the function can never apply, whatever a retry does. */
export type BadLoadRequest = NamedError<"BadLoadRequest">;
/** The manifest the request names does not exist: the curation job did not finish its unit. */
export type ManifestMissing = NamedError<"ManifestMissing", { readonly bucket: string; readonly manifestKey: string }>;

const badRequest = (message: string): BadLoadRequest => namedError("BadLoadRequest", message, {});

/** The request as the state machine sends it; anything else is refused by name. */
export function parseLoadRequest(event: unknown, stagedBucket: string): BatchReportingLoadRequest {
  const { bucket, manifestKey } = (typeof event === "object" && event !== null ? event : {}) as Record<string, unknown>;
  if (typeof bucket !== "string" || typeof manifestKey !== "string") {
    throw badRequest(`expected {"bucket": string, "manifestKey": string}, got ${JSON.stringify(event)?.slice(0, 300)}`);
  }
  if (bucket !== stagedBucket) throw badRequest(`bucket ${bucket} is not the staged bucket ${stagedBucket}`);
  if (!BATCH_MANIFEST_KEY.test(manifestKey)) throw badRequest(`manifestKey ${JSON.stringify(manifestKey)} is not a batch manifest (batch/manifests/<run id>.manifest)`);
  return { bucket, manifestKey };
}

export interface BatchReportingLoadDeps {
  readonly s3: S3Client;
  readonly pool: Pool;
  readonly stagedBucket: string;
  /** @default logJson */
  readonly log?: LogLine;
}

const isNotFound = (error: unknown) => {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === "NotFound" || name === "NoSuchKey" || $metadata?.httpStatusCode === 404;
};

async function requireManifest(s3: S3Client, bucket: string, manifestKey: string): Promise<void> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: manifestKey }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw namedError("ManifestMissing", `s3://${bucket}/${manifestKey} does not exist: the curation job writes it last, so its run did not complete`, { bucket, manifestKey }) as ManifestMissing;
  }
}

/** Applies one manifest; throws when it cannot be applied (nothing of it is then written). */
export async function applyBatchManifest(deps: BatchReportingLoadDeps, event: unknown): Promise<BatchReportingLoadSummary> {
  const log = deps.log ?? logJson;
  const { bucket, manifestKey } = parseLoadRequest(event, deps.stagedBucket);
  await requireManifest(deps.s3, bucket, manifestKey);
  const { files, skipped } = await readManifestFiles(deps.s3, bucket, manifestKey);
  for (const file of skipped) log({ message: "Optional staged file skipped", manifestKey, file });
  const { facts, rejected, otherEvents } = manifestFacts(files);
  for (const row of rejected) log({ message: "Order row rejected", manifestKey, ...row });
  const result = await applyManifest(deps.pool, { manifestKey, facts });
  const summary: BatchReportingLoadSummary = {
    manifestKey,
    ...result,
    files: files.length,
    rows: files.reduce((sum, file) => sum + file.rows.length, 0),
    orderEvents: facts.length,
    rejected: rejected.length,
    otherEvents,
    skippedFiles: skipped.length,
  };
  log({ message: result.applied ? "Batch manifest applied" : "Batch manifest already applied, nothing written", ...summary });
  return summary;
}

// ---- Run-time wiring (used by the Lambda's callback factory) -------------------------

export interface BatchReportingLoadSettings {
  readonly stagedBucket: string;
  readonly databaseHost: string;
  readonly databasePort: number;
  readonly databaseName: string;
  /** Secrets Manager secret holding {"username", "password"} (the RDS managed master secret shape). */
  readonly databaseSecretArn: string;
  /** @default true */
  readonly databaseTls?: boolean;
}

/** Reads the settings the component puts in the function's environment; a missing or malformed one is named. */
export function batchReportingLoadSettingsFromEnv(env: Environment): BatchReportingLoadSettings {
  return {
    stagedBucket: requiredEnv(env, "STAGED_BUCKET"),
    databaseHost: requiredEnv(env, "DB_HOST"),
    databasePort: integerEnv(env, "DB_PORT", 5432, 1, 65535),
    databaseName: requiredEnv(env, "DB_NAME"),
    databaseSecretArn: requiredEnv(env, "DB_SECRET_ARN"),
    // Secure by default: only an explicit "false" (local runs) turns TLS off.
    databaseTls: flagEnv(env, "DB_TLS", true),
  };
}

/**
 * The reporting API's pool settings (verified TLS through NODE_EXTRA_CA_CERTS, two
 * connections), with the longer connect and statement limits a whole manifest's
 * transaction needs. reporting-api's poolConfig reads only the four database fields.
 */
export function batchLoadPoolConfig(settings: BatchReportingLoadSettings, credentials: { username: string; password: string }): PoolConfig {
  const database: Pick<ReportingSettings, "databaseHost" | "databasePort" | "databaseName" | "databaseTls"> = settings;
  return {
    ...poolConfig(database as ReportingSettings, credentials),
    connectionTimeoutMillis: 5_000,
    statement_timeout: 120_000,
    application_name: "batch-reporting-load",
  };
}

const INVALID_PASSWORD = "28P01";

export interface BatchReportingLoadHandler {
  readonly handle: (event: unknown) => Promise<BatchReportingLoadSummary>;
  /** Closes the pool (tests; Lambda simply freezes). */
  readonly close: () => Promise<void>;
}

/**
 * The handler: the pool is built from the database secret on first use, the reporting
 * schema is applied once per pool (applySchema is idempotent and serialised by an
 * advisory lock), and a rejected password re-reads the secret once.
 */
export function createBatchReportingLoad(settings: BatchReportingLoadSettings, clients: { s3: S3Client; readSecret: SecretReader; log?: LogLine }): BatchReportingLoadHandler {
  let ready: Promise<Pool> | undefined;
  const connect = async () => {
    // databaseCredentials is the aggregator's parser: it names a malformed secret without showing its value.
    const secret = await clients.readSecret(settings.databaseSecretArn);
    let credentials: { username: string; password: string };
    try {
      credentials = databaseCredentials({ DB_SECRET: secret });
    } catch (error) {
      throw new Error(`database secret ${settings.databaseSecretArn}: ${(error as Error).message.replace(/^DB_SECRET /, "")}`);
    }
    const pool = new Pool(batchLoadPoolConfig(settings, credentials));
    pool.on("error", () => undefined); // an idle client's error surfaces on the next query instead
    try {
      await applySchema(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return pool;
  };
  const pool = () => (ready ??= connect().catch((error) => {
    ready = undefined;
    throw error;
  }));
  const reset = async () => {
    const stale = ready;
    ready = undefined;
    await stale?.then((old) => old.end()).catch(() => undefined);
  };
  const apply = async (event: unknown) => applyBatchManifest({ s3: clients.s3, pool: await pool(), stagedBucket: settings.stagedBucket, log: clients.log }, event);
  return {
    async handle(event) {
      // A request that can never succeed is refused before any connection is made.
      parseLoadRequest(event, settings.stagedBucket);
      try {
        return await apply(event);
      } catch (error) {
        if ((error as { code?: string }).code !== INVALID_PASSWORD) throw error;
        await reset();
        return apply(event);
      }
    },
    close: reset,
  };
}

/**
 * Runs at cold start in the Lambda: reads the environment, builds the S3 and Secrets
 * Manager clients, delegates. Pass it to createInlineFunction as `callbackFactory`.
 */
export function batchReportingLoadCallbackFactory() {
  const settings = batchReportingLoadSettingsFromEnv(process.env);
  const handler = createBatchReportingLoad(settings, {
    s3: new S3Client(DATA_PATH_CLIENT_SETTINGS),
    readSecret: secretsManagerReader(new SecretsManagerClient(DATA_PATH_CLIENT_SETTINGS)),
  });
  return handler.handle;
}
