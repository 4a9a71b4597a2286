/**
 * The client API's entry point, and all it does is wire: environment → credentials
 * sources → pool, cache, SQS → HTTP server, plus SIGTERM. The logic is in the modules beside it.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Signer } from "@aws-sdk/rds-signer";
import * as fs from "fs";
import { Pool } from "pg";
import { RDS_CA_BUNDLE_PATH } from "../../shared/env";
import { createLogger, errorFields, parseLogLevel } from "../../shared/log";
import { createRotatingCache } from "./cache";
import { passwordSource, redisTokenSource } from "./credentials";
import { readerPoolConfig } from "./database";
import { RunningServer, startServer } from "./server";
import { ClientApiSettings, clientApiSettings } from "./settings";

function signerFor(database: ClientApiSettings["database"]): Signer {
  const region = database.auth.kind === "iam" ? database.auth.region : undefined;
  return new Signer({ hostname: database.host, port: database.port, username: database.user, region });
}

async function main(): Promise<void> {
  const log = createLogger(parseLogLevel(process.env.LOG_LEVEL));
  let settings: ClientApiSettings;
  let pool: Pool;
  try {
    settings = clientApiSettings(process.env);
    pool = new Pool(readerPoolConfig(settings.database, passwordSource(settings.database.auth, () => signerFor(settings.database)), () => fs.readFileSync(RDS_CA_BUNDLE_PATH, "utf8")));
  } catch (error) {
    log.error("Client API cannot start", errorFields(error));
    process.exit(1);
  }
  // An idle client's connection dropping (a failover) must not crash the process.
  pool.on("error", (error) => log.warn("Idle database connection lost", errorFields(error)));
  const cache = createRotatingCache({
    connection: { host: settings.redis.host, port: settings.redis.port, tls: settings.redis.tls },
    token: redisTokenSource(settings.redis.auth, () => new SecretsManagerClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } })),
    cache: { namespace: "client-api", schemaVersion: 1, onCacheError: (error, operation) => log.debug("Cache skipped", { operation, ...errorFields(error) }) },
    log,
  });
  const sqs = new SQSClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
    ...(process.env.AWS_ENDPOINT_URL_SQS ? { endpoint: process.env.AWS_ENDPOINT_URL_SQS } : {}),
  });
  const queueDepth = async (queueUrl: string) => {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  };

  let server: RunningServer | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("Stopping", { signal, inFlight: server?.inFlight() ?? 0 });
    await server?.stop(settings.shutdownMs);
    await Promise.all([cache.close(), pool.end().catch(() => undefined)]);
    sqs.destroy();
    log.info("Stopped");
    process.exit(0);
  };
  // A repeated signal must not fall back to the default handler (which would drop in-flight requests).
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  const deps = { db: pool, cache, queueDepth, pipelineQueues: settings.pipelineQueues, cacheTtlSeconds: settings.cacheTtlSeconds, log };
  server = await startServer(settings.host, settings.port, deps, log);
  log.info("Client API started", { port: server.port, database: settings.database.host, auth: settings.database.auth.kind });
}

void main();
