/**
 * One SQS message, start to end: what it announces (messages.ts), each manifest's staged
 * rows (manifest-files.ts), their order facts (staged-rows.ts) and one transaction per
 * manifest (store.ts). Throws when a manifest cannot be applied, so the poller leaves the
 * message for redelivery; returns what was done otherwise.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Pool } from "pg";
import type { Logger } from "../../shared/log";
import { errorFields } from "../../shared/log";
import { readManifestFiles } from "./manifest-files";
import { parseMessage } from "./messages";
import { withRetries } from "./retry";
import { manifestFacts } from "./staged-rows";
import { LoadResult, applyManifest } from "./store";

export interface ProcessorDeps {
  readonly s3: S3Client;
  readonly pool: Pool;
  readonly stagedBucket: string;
  readonly log: Logger;
  /** Backoff of the bounded retries. @default 200 */
  readonly retryBaseDelayMs?: number;
}

export interface ManifestOutcome extends LoadResult {
  readonly manifestKey: string;
  readonly orderEvents: number;
  readonly rejected: number;
}

export async function processMessage(deps: ProcessorDeps, body: string, signal?: AbortSignal): Promise<ManifestOutcome[]> {
  const content = parseMessage(body, deps.stagedBucket);
  if (content.ignoredMessage !== undefined) deps.log.info("Message ignored", { reason: content.ignoredMessage });
  for (const object of content.ignored) deps.log.info("Object ignored", { key: object.key, reason: object.reason });
  const outcomes: ManifestOutcome[] = [];
  for (const manifest of content.manifests) outcomes.push(await applyOne(deps, manifest.key, signal));
  return outcomes;
}

async function applyOne(deps: ProcessorDeps, manifestKey: string, signal?: AbortSignal): Promise<ManifestOutcome> {
  const retry = (step: string) => ({
    signal,
    baseDelayMs: deps.retryBaseDelayMs,
    onRetry: (error: unknown, attempt: number) => deps.log.warn("Transient failure, retrying", { manifestKey, step, attempt, ...errorFields(error) }),
  });
  deps.log.info("Manifest started", { manifestKey });
  const { files, skipped } = await withRetries(() => readManifestFiles(deps.s3, deps.stagedBucket, manifestKey, signal), retry("read staged objects"));
  for (const url of skipped) deps.log.warn("Optional staged file skipped", { manifestKey, file: url });
  const { facts, rejected, otherEvents, duplicates } = manifestFacts(files);
  for (const row of rejected) deps.log.warn("Order row rejected", { manifestKey, ...row });
  const result = await withRetries(() => applyManifest(deps.pool, { manifestKey, facts }, signal), retry("apply in the database"));
  const outcome = { manifestKey, ...result, orderEvents: facts.length, rejected: rejected.length };
  deps.log.info(result.applied ? "Manifest applied" : "Manifest already applied, nothing written", {
    ...outcome,
    files: files.length,
    rows: files.reduce((sum, file) => sum + file.rows.length, 0),
    otherEvents,
    duplicates,
  });
  return outcome;
}
