/**
 * Runs a batch Glue job locally against an S3 endpoint (s3rver in tests): downloads the
 * job's input prefix to a temporary directory, runs the job's own Python logic
 * (`python3 glue/local_job.py <job> …`, the batch_events package the Glue scripts use),
 * uploads what it wrote to the same bucket layout the real job writes, and resolves with
 * the JobRun that `arn:aws:states:::glue:startJobRun.sync` returns as the task's result.
 * The state-machine tests use it as the task override of the two Glue states.
 *
 * What differs from Glue (glue/local_job.py says why): clean rows are JSON lines, not
 * Parquet; Parquet inputs are refused; there are no job bookmarks (every input is read).
 *
 * A job that fails rejects with a GlueJobRunFailed: name "States.TaskFailed", the error a
 * `.sync` Glue task reports for a run that ends FAILED, and the failed JobRun (its
 * ErrorMessage carries python's stderr) as the message, which Step Functions gives as the
 * error's Cause. JobRun fields: https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-jobs-runs.html#aws-glue-api-jobs-runs-JobRun
 * Run states: https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../scripts/engine";

export type LocalGlueJob = "batch-file" | "curation";

/** The JobRun fields a `.sync` task returns (times as epoch milliseconds, as Step Functions serialises them). */
export interface LocalJobRun {
  readonly Id: string;
  readonly Attempt: number;
  readonly JobName: string;
  readonly JobMode: "SCRIPT";
  readonly StartedOn: number;
  readonly LastModifiedOn: number;
  readonly CompletedOn: number;
  readonly JobRunState: "SUCCEEDED" | "FAILED";
  readonly Arguments: Record<string, string>;
  readonly ErrorMessage?: string;
  readonly PredecessorRuns: never[];
  /** Seconds the run consumed. */
  readonly ExecutionTime: number;
  readonly GlueVersion: "5.0";
}

export type SucceededJobRun = LocalJobRun & { readonly JobRunState: "SUCCEEDED" };

export const GLUE_JOB_FAILED_ERROR = "States.TaskFailed";

export class GlueJobRunFailed extends Error {
  constructor(readonly jobRun: LocalJobRun) {
    super(JSON.stringify(jobRun));
    this.name = GLUE_JOB_FAILED_ERROR;
  }
}

const LOCAL_JOB_SCRIPT = path.join(PROJECT_DIR, "glue", "local_job.py");

/** Which bucket and prefix each job reads, by the argument naming the bucket. */
const INPUTS: Record<LocalGlueJob, { bucketArgument: string; prefix: string }> = {
  "batch-file": { bucketArgument: "--raw_bucket", prefix: "batch/" },
  curation: { bucketArgument: "--transformed_bucket", prefix: "batch/clean/" },
};

const CONTENT_TYPES: [RegExp, string][] = [
  [/\.jsonl$/, "application/x-ndjson"],
  [/\.csv$/, "text/csv"],
  [/\.manifest$/, "application/json"],
];

function requiredArgument(args: Record<string, string>, name: string): string {
  const value = args[name];
  if (value === undefined || value.trim() === "") throw new Error(`Glue job arguments lack ${name} (got ${Object.keys(args).join(", ") || "none"})`);
  return value;
}

async function listAllKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!).filter((key) => !key.endsWith("/")));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken !== undefined);
  return keys;
}

async function download(s3: S3Client, bucket: string, prefix: string, root: string): Promise<void> {
  for (const key of await listAllKeys(s3, bucket, prefix)) {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const file = path.join(root, bucket, ...key.split("/"));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, await Body!.transformToByteArray());
  }
}

function filesUnder(directory: string): string[] {
  if (!fs.existsSync(directory)) return [];
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

/** Quarantine before clean rows (as the Lambda path), and a manifest last: its existence means the unit is complete. */
function uploadRank(key: string): number {
  if (key.startsWith("quarantine/")) return 0;
  return key.endsWith(".manifest") ? 2 : 1;
}

async function upload(s3: S3Client, root: string): Promise<string[]> {
  const objects = filesUnder(root).map((file) => {
    const [bucket, ...parts] = path.relative(root, file).split(path.sep);
    return { bucket, key: parts.join("/"), file };
  });
  objects.sort((a, b) => uploadRank(a.key) - uploadRank(b.key) || a.key.localeCompare(b.key));
  for (const { bucket, key, file } of objects) {
    const ContentType = CONTENT_TYPES.find(([pattern]) => pattern.test(key))?.[1] ?? "application/octet-stream";
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.readFileSync(file), ContentType }));
  }
  return objects.map(({ bucket, key }) => `s3://${bucket}/${key}`);
}

function runPython(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.PYTHON ?? "python3", [LOCAL_JOB_SCRIPT, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Glue's `--name value` pairs as a command line (python ignores the ones it does not use). */
export function glueArgv(args: Record<string, string>): string[] {
  return Object.entries(args).flatMap(([name, value]) => {
    if (!name.startsWith("--")) throw new Error(`Glue job argument ${JSON.stringify(name)} must start with "--"`);
    return [name, value];
  });
}

function jobRunId(): string {
  return `jr_${randomBytes(32).toString("hex")}`;
}

/**
 * Runs `job` with Glue's arguments ("--raw_bucket": "…", …) and resolves with the
 * SUCCEEDED JobRun, or rejects with GlueJobRunFailed carrying python's stderr.
 */
export async function runGlueJobLocally(s3: S3Client, job: LocalGlueJob, args: Record<string, string>): Promise<SucceededJobRun> {
  const startedOn = Date.now();
  const input = INPUTS[job];
  const inputBucket = requiredArgument(args, input.bucketArgument);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `glue-${job}-`));
  const inputDir = path.join(workDir, "in");
  const outputDir = path.join(workDir, "out");
  try {
    fs.mkdirSync(inputDir);
    await download(s3, inputBucket, input.prefix, inputDir);
    const result = await runPython([job, ...glueArgv(args), "--input_dir", inputDir, "--output_dir", outputDir]);
    const completedOn = Date.now();
    const run = {
      Id: jobRunId(),
      Attempt: 0,
      JobName: args["--JOB_NAME"] ?? job,
      JobMode: "SCRIPT" as const,
      StartedOn: startedOn,
      LastModifiedOn: completedOn,
      CompletedOn: completedOn,
      Arguments: { ...args },
      PredecessorRuns: [],
      ExecutionTime: Math.round((completedOn - startedOn) / 1000),
      GlueVersion: "5.0" as const,
    };
    if (result.code !== 0) {
      throw new GlueJobRunFailed({ ...run, JobRunState: "FAILED", ErrorMessage: `${job} exited with ${result.code}: ${result.stderr.trim()}` });
    }
    // Nothing is uploaded from a failed run: a real job's output is its own, and the state machine fails the unit.
    await upload(s3, outputDir);
    return { ...run, JobRunState: "SUCCEEDED" };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** What a `glue:startJobRun.sync` Task state passes (its Parameters): the job's name and its arguments. */
export interface StartJobRunInput {
  readonly JobName: string;
  readonly Arguments?: Record<string, string>;
}

/**
 * A task override for the state machine's Glue states: maps the deployed job names to the
 * local jobs and runs the one the state names, with `--JOB_NAME` set as Glue sets it.
 */
export function localGlueTask(s3: S3Client, jobs: Record<string, LocalGlueJob>): (input: StartJobRunInput) => Promise<SucceededJobRun> {
  return (input) => {
    const job = jobs[input.JobName];
    if (job === undefined) return Promise.reject(new Error(`No local Glue job for ${JSON.stringify(input.JobName)} (known: ${Object.keys(jobs).join(", ")})`));
    return runGlueJobLocally(s3, job, { ...input.Arguments, "--JOB_NAME": input.JobName });
  };
}
