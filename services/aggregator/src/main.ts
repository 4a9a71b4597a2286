/**
 * The aggregator's entry point, and all it does is wire: environment → clients → schema →
 * poll loop, plus the liveness endpoint and SIGTERM. The logic is in the modules beside it.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import * as fs from "fs";
import { Pool } from "pg";
import { DATA_PATH_CLIENT_SETTINGS } from "../../../functions/data-path-runtime";
import { startHealthServer } from "./health";
import { createLogger, errorFields, parseLogLevel } from "../../shared/log";
import { Poller, startPoller } from "./poller";
import { processMessage } from "./processor";
import { withRetries } from "./retry";
import { RDS_CA_BUNDLE_PATH } from "../../shared/env";
import { aggregatorSettings, databaseCredentials, poolConfig } from "./settings";
import { applySchema } from "./store";

async function main(): Promise<void> {
  const log = createLogger(parseLogLevel(process.env.LOG_LEVEL));
  let settings;
  let pool: Pool;
  try {
    settings = aggregatorSettings(process.env);
    pool = new Pool(poolConfig(settings, databaseCredentials(process.env), () => fs.readFileSync(RDS_CA_BUNDLE_PATH, "utf8")));
  } catch (error) {
    log.error("Aggregator cannot start", errorFields(error));
    process.exit(1);
  }
  // An idle client's connection dropping (a failover) must not crash the process.
  pool.on("error", (error) => log.warn("Idle database connection lost", errorFields(error)));

  let poller: Poller | undefined;
  let stopping = false;
  const health = await startHealthServer(settings.healthPort, () => poller?.healthy() ?? true);
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("Stopping", { signal });
    await poller?.stop();
    await pool.end().catch(() => undefined);
    await health.close();
    log.info("Stopped");
    process.exit(0);
  };
  // A repeated signal must not fall back to the default handler (which kills the process mid-manifest).
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  try {
    await withRetries(() => applySchema(pool), { attempts: 6, baseDelayMs: 500, onRetry: (error, attempt) => log.warn("Schema not applied yet, retrying", { attempt, ...errorFields(error) }) });
  } catch (error) {
    log.error("Aggregator cannot apply the reporting schema", errorFields(error));
    process.exit(1);
  }
  if (stopping) return;
  log.info("Reporting schema applied");

  const s3 = new S3Client(DATA_PATH_CLIENT_SETTINGS);
  // Long polls hold the request for up to 20 s, so the SQS client's request timeout is longer than that.
  const sqs = new SQSClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 30_000, throwOnRequestTimeout: true } });
  const deps = { s3, pool, stagedBucket: settings.stagedBucket, log };
  poller = startPoller({ sqs, queueUrl: settings.queueUrl, log, process: (body, signal) => processMessage(deps, body, signal), options: settings.poller });
  log.info("Aggregator started", { queueUrl: settings.queueUrl, stagedBucket: settings.stagedBucket, healthPort: health.port });
}

void main();
