/**
 * The batch layer's layout and the Glue job arguments, as plain values the components,
 * the state machine and the tests share; the Python jobs (glue/jobs/*.py) read the same
 * names (README, Batch layer).
 */
import * as pulumi from "@pulumi/pulumi";

/** Glue 5.0: Spark 3.5, Python 3.11 (https://docs.aws.amazon.com/glue/latest/dg/release-notes.html). */
export const GLUE_VERSION = "5.0";
export type GlueWorkerType = "G.1X" | "G.2X" | "G.4X" | "G.8X";

// The batch layout lives with the rest of the lake's (functions/lake-layout.ts), where the handlers read it too.
export { BATCH_CLEAN_PREFIX, BATCH_CURATED_PREFIX, BATCH_DROP_PREFIX, BATCH_MANIFEST_PREFIX, BATCH_QUARANTINE_PREFIX } from "../../functions/lake-layout";

export interface GlueJobArgumentInputs {
  readonly raw: pulumi.Input<string>;
  readonly transformed: pulumi.Input<string>;
  readonly staged: pulumi.Input<string>;
  readonly catalogDatabase: pulumi.Input<string>;
  readonly tempDir: pulumi.Input<string>;
  readonly extraPyFiles: pulumi.Input<string>;
  /** Glue 5 writes real-time logs to <prefix>/…/error and …/output (the component creates them with retention). */
  readonly logGroupPrefix: pulumi.Input<string>;
}

/**
 * The jobs' default arguments (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html).
 * The window and run id are "" here: the nightly run is incremental (bookmarks), and the
 * pipeline overrides them per run (a backfill also turns bookmarks off).
 */
export function glueJobArguments(inputs: GlueJobArgumentInputs): Record<string, pulumi.Input<string>> {
  return {
    "--job-language": "python",
    "--job-bookmark-option": "job-bookmark-enable",
    // Glue 5 logs in real time by default; the flag keeps it explicit (and on for older versions).
    "--enable-continuous-cloudwatch-log": "true",
    "--custom-logGroup-prefix": inputs.logGroupPrefix,
    "--enable-metrics": "true",
    "--enable-observability-metrics": "true",
    "--TempDir": inputs.tempDir,
    "--extra-py-files": inputs.extraPyFiles,
    "--raw_bucket": inputs.raw,
    "--transformed_bucket": inputs.transformed,
    "--staged_bucket": inputs.staged,
    "--catalog_database": inputs.catalogDatabase,
    "--window_from": "",
    "--window_to": "",
    // The pipeline passes its execution name; a run started by hand is "manual".
    "--run_id": "manual",
    "--manifest_key": "",
  };
}
