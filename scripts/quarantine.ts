/**
 * `npm run quarantine -- --stack STACK list|replay`: what the data path quarantined, and
 * sending it back once fixed (operations/quarantine.ts does the work).
 *
 *   list   [--stage speed-layer|raw-api|lake-transform] [--since 2026-12-01T00:00:00Z] [--format text|json]
 *   replay --ids ID[,ID…] [--fixes fixes.jsonl] [--dry-run] [--force]
 *
 * Names come from the stack's outputs (`pulumi stack output --json --stack STACK`:
 * transformedBucketName, ingestStreamName, ingestQueueUrl) and the region from
 * Pulumi.STACK.yaml (activeRegion, else primaryRegion), with the usual AWS credentials.
 * `--outputs-file F` reads the outputs from a file instead: a saved `pulumi stack output
 * --json`, or out/local/outputs.json that `npm run local -- --keep` writes (it adds the
 * local servers' endpoints and region).
 */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import * as fs from "fs";
import { Listr } from "listr2";
import { validateStageConfig } from "../config";
import { execRunner } from "../dr/topology-source";
import { QUARANTINE_STAGES, QuarantineStage } from "../functions/quarantine";
import { localKinesisClient, localS3Client, localSqsClient } from "../local/clients";
import { QuarantineCase, ReplayDeps, ReplayOutcome, listQuarantine, parseFixes, replayQuarantined } from "../operations/quarantine";
import { readStackConfig } from "./engine";

const USAGE = "Usage: npm run quarantine -- --stack STACK [--outputs-file F] list [--stage S] [--since ISO] [--format text|json] | replay --ids ID[,ID...] [--fixes FILE] [--dry-run] [--force]";
const BOOLEAN_FLAGS = new Set(["dry-run", "force"]);
// A misspelt flag (--stages) must fail, not quietly list or replay everything.
const VALUE_FLAGS = new Set(["stack", "outputs-file", "stage", "since", "format", "ids", "fixes"]);
const FORMATS = ["text", "json"];

export interface QuarantineArgs {
  readonly command: "list" | "replay";
  readonly stack: string;
  readonly flags: Record<string, string>;
  readonly switches: Set<string>;
}

export function parseQuarantineArgs(argv: readonly string[]): QuarantineArgs {
  const flags: Record<string, string> = {};
  const switches = new Set<string>();
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      words.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split("=", 2);
    if (BOOLEAN_FLAGS.has(name)) {
      switches.add(name);
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw new Error(`Unknown flag --${name}. ${USAGE}`);
    const value = inline ?? argv[++i];
    // "--ids --force" would otherwise take "--force" as the ids.
    if (value === undefined || value.startsWith("--")) throw new Error(`--${name} needs a value. ${USAGE}`);
    flags[name] = value;
  }
  if (words.length !== 1 || (words[0] !== "list" && words[0] !== "replay")) throw new Error(`Say list or replay. ${USAGE}`);
  if (!flags.stack) throw new Error(`--stack is required. ${USAGE}`);
  if (flags.stage !== undefined && !QUARANTINE_STAGES.includes(flags.stage as QuarantineStage)) throw new Error(`--stage must be one of ${QUARANTINE_STAGES.join(", ")}`);
  if (flags.since !== undefined && Number.isNaN(Date.parse(flags.since))) throw new Error(`--since must be an ISO-8601 date-time, not "${flags.since}"`);
  if (flags.format !== undefined && !FORMATS.includes(flags.format)) throw new Error(`--format must be text or json, not "${flags.format}"`);
  if (words[0] === "replay" && !flags.ids) throw new Error(`replay needs --ids. ${USAGE}`);
  return { command: words[0], stack: flags.stack, flags, switches };
}

/** What the tool needs from a stack: the names it exports, and where to reach them. */
export interface QuarantineTarget {
  readonly region: string;
  readonly transformedBucketName: string;
  readonly ingestStreamName: string;
  readonly ingestQueueUrl: string;
  /** Local servers' endpoints (the local run); real AWS when absent. */
  readonly endpoints?: { s3?: string; kinesis?: string; sqs?: string };
}

export function targetFromOutputs(outputs: Record<string, unknown>, region: string, origin: string): QuarantineTarget {
  const text = (key: string): string => {
    const value = outputs[key];
    if (typeof value !== "string" || value === "") throw new Error(`${origin} has no "${key}" output`);
    return value;
  };
  return {
    region: typeof outputs.region === "string" ? outputs.region : region,
    transformedBucketName: text("transformedBucketName"),
    ingestStreamName: text("ingestStreamName"),
    ingestQueueUrl: text("ingestQueueUrl"),
    endpoints: outputs.endpoints as QuarantineTarget["endpoints"],
  };
}

async function resolveTarget(args: QuarantineArgs): Promise<QuarantineTarget> {
  const config = validateStageConfig(readStackConfig(args.stack), `Pulumi.${args.stack}.yaml`);
  const region = config.activeRegion ?? config.primaryRegion;
  if (args.flags["outputs-file"]) {
    const file = args.flags["outputs-file"];
    return targetFromOutputs(JSON.parse(fs.readFileSync(file, "utf8")), region, file);
  }
  const { stdout } = await execRunner("pulumi", ["stack", "output", "--json", "--stack", args.stack]);
  return targetFromOutputs(JSON.parse(stdout), region, `pulumi stack output --stack ${args.stack}`);
}

/**
 * Clients for the target. Endpoints mean the local servers (out/local/outputs.json): they
 * take their own key pair (s3rver checks it; no AWS credentials are needed or used), and
 * kinesalite speaks HTTP/1.1 only, where the Kinesis client defaults to HTTP/2.
 */
export function replayDepsFor(target: QuarantineTarget): ReplayDeps {
  // Local servers' endpoints get the local clients (their credentials, path-style S3, HTTP/1.1 Kinesis); AWS its own chain.
  const { region, endpoints } = target;
  return {
    s3: endpoints?.s3 ? localS3Client(endpoints.s3, region) : new S3Client({ region }),
    bucket: target.transformedBucketName,
    kinesis: endpoints?.kinesis ? localKinesisClient(endpoints.kinesis, region) : new KinesisClient({ region }),
    streamName: target.ingestStreamName,
    sqs: endpoints?.sqs ? localSqsClient(endpoints.sqs, region) : new SQSClient({ region }),
    queueUrl: target.ingestQueueUrl,
  };
}

/** One block per case: id, where it goes back to, who refused it and why, and where it came from. */
export function renderCases(cases: readonly QuarantineCase[]): string {
  if (cases.length === 0) return "The quarantine is empty.\n";
  const lines = [`${cases.length} quarantined record(s):`];
  for (const quarantineCase of cases) {
    const first = quarantineCase.entries[0].record;
    const origin = first.origin.kind === "kinesis"
      ? `stream ${first.origin.shardId} #${first.origin.sequenceNumber} (partition key ${first.origin.partitionKey}, arrived ${first.origin.arrivedAt})`
      : first.origin.kind === "sqs"
        ? `queue message ${first.origin.messageId}${first.origin.eventIndex === undefined ? "" : ` event ${first.origin.eventIndex}`} (sent ${first.origin.sentAt})`
        : `s3://${first.origin.bucket}/${first.origin.key} row ${first.origin.row}`;
    const status = quarantineCase.replayed ? `replayed ${quarantineCase.replayed.replayedAt}` : "not replayed";
    lines.push(
      `- ${quarantineCase.id}  → ${quarantineCase.replayTo}  [${quarantineCase.stages.join(", ")}]  ${status}`,
      `    reason:  ${quarantineCase.reasons.join(" | ")}`,
      `    from:    ${origin}`,
      `    payload: ${first.payload.bytes} bytes ${first.payload.encoding}: ${first.payload.data.slice(0, 120)}${first.payload.data.length > 120 ? "…" : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function describeOutcome(outcome: ReplayOutcome): string {
  if (outcome.status === "replayed") return `${outcome.id}: replayed into the ${outcome.target}${outcome.fixed ? " (fixed)" : ""} as ${outcome.receipt}, ${outcome.entries} entr${outcome.entries === 1 ? "y" : "ies"} marked`;
  if (outcome.status === "would-replay") return `${outcome.id}: would replay into the ${outcome.target}${outcome.fixed ? " (fixed)" : ""}`;
  return `${outcome.id}: skipped, ${outcome.reason}`;
}

async function main(): Promise<number> {
  const args = parseQuarantineArgs(process.argv.slice(2));
  const deps = replayDepsFor(await resolveTarget(args));
  if (args.command === "list") {
    const cases = await listQuarantine(deps.s3, deps.bucket, { stage: args.flags.stage as QuarantineStage | undefined, since: args.flags.since ? new Date(args.flags.since) : undefined });
    process.stdout.write(args.flags.format === "json" ? `${JSON.stringify(cases, null, 2)}\n` : renderCases(cases));
    return 0;
  }
  const ids = args.flags.ids.split(",").map((id) => id.trim()).filter((id) => id.length > 0);
  const fixes = args.flags.fixes ? parseFixes(fs.readFileSync(args.flags.fixes, "utf8"), args.flags.fixes) : undefined;
  const outcomes: ReplayOutcome[] = [];
  await new Listr([{
    title: `Replaying ${ids.length} quarantine case(s)${args.switches.has("dry-run") ? " (dry run)" : ""}`,
    task: async (_context, task) => {
      await replayQuarantined(deps, { ids, fixes, force: args.switches.has("force"), dryRun: args.switches.has("dry-run") }, (outcome) => {
        outcomes.push(outcome);
        task.output = describeOutcome(outcome);
      });
    },
  }], { renderer: process.stdout.isTTY ? "default" : "simple" }).run();
  for (const outcome of outcomes) process.stdout.write(`${describeOutcome(outcome)}\n`);
  return outcomes.some((outcome) => outcome.status === "skipped") ? 1 : 0;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  });
}
