/**
 * The warehouse load the batch pipeline invokes hands the existing loader an EventBridge
 * "Object Created" event it builds itself. This checks that event against the one AWS
 * sends (Powertools' sample, tests/fixtures/third-party/, unchanged): every field the
 * pipeline writes is one AWS's event has, with the same literal values where the pipeline
 * fixes them, and the loader reads the same object out of both.
 */
import { stagedObjectOf } from "../functions/warehouse-loader";
import { STATES, batchPipelineDefinition } from "../workflows/batch-pipeline";
import { thirdPartyEvent } from "./support/third-party-events";

const SAMPLE = "powertools-lambda-typescript/packages/parser/tests/events/s3/eventbridge-object-created.json";

const REFS = {
  batchFileJobName: "dp-dev-batch-batch-file",
  curationJobName: "dp-dev-batch-curation",
  crawlerName: "dp-dev-batch-clean-crawler",
  warehouseLoaderFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:dp-dev-warehouse-loader-fn",
  reportingLoadFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:dp-dev-batch-pipeline-reporting-load-fn",
  stagedBucket: "dp-dev-lake-staged",
  fanoutTopicArn: "arn:aws:sns:eu-west-1:123456789012:dp-dev-lake-events",
  alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:dp-dev-alerting-alarms",
  region: "eu-west-1",
};
const SETTINGS = {
  retry: { maxAttempts: 3, intervalSeconds: 30, backoffRate: 2 },
  glueJobTimeoutMinutes: 30,
  crawler: { pollIntervalSeconds: 30, maxPolls: 120 },
  warehouseLoadTimeoutSeconds: 300,
  reportingLoadTimeoutSeconds: 300,
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The payload template with `name.$` paths resolved from `values` (a path → value map), as Step Functions resolves them. */
function resolve(template: Json, values: Record<string, Json>): Json {
  if (typeof template !== "object" || template === null || Array.isArray(template)) return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => {
      if (!key.endsWith(".$")) return [key, resolve(value, values)];
      if (!(String(value) in values)) throw new Error(`no value for the path ${String(value)}`);
      return [key.slice(0, -2), values[String(value)]];
    }),
  );
}

/** Every path of `built` must be a path of `sample`, with a value of the same type. */
function fieldsMissingFrom(sample: Json, built: Json, at = "$"): string[] {
  if (typeof built !== "object" || built === null) return typeof built === typeof sample ? [] : [`${at}: ${typeof built}, AWS sends ${typeof sample}`];
  if (typeof sample !== "object" || sample === null) return [`${at}: an object, AWS sends ${sample === null ? "null" : typeof sample}`];
  return Object.entries(built).flatMap(([key, value]) =>
    key in sample ? fieldsMissingFrom((sample as Record<string, Json>)[key], value, `${at}.${key}`) : [`${at}.${key}: not in AWS's event`],
  );
}

describe("the batch pipeline's warehouse-load event", () => {
  const state = batchPipelineDefinition(REFS, SETTINGS).States[STATES.warehouseLoad] as unknown as { Parameters: { FunctionName: string; Payload: Json } };
  const sample = thirdPartyEvent(SAMPLE);
  const built = resolve(state.Parameters.Payload, { "$.run.manifestKey": "batch/manifests/nightly-42.manifest", "$.manifest.etag": "4e68adba0abe2dc8653dc3354e14c01d", "$.manifest.size": 212 });

  it("invokes the loader itself", () => {
    expect(state.Parameters.FunctionName).toBe(REFS.warehouseLoaderFunctionArn);
  });

  it("carries only fields AWS's own Object Created event has, with the same types, and AWS's fixed values", () => {
    expect(fieldsMissingFrom(sample, built)).toEqual([]);
    expect(built).toMatchObject({ version: sample.version, source: sample.source, "detail-type": sample["detail-type"] });
  });

  it("reads back as the manifest, as AWS's event reads back as its object", () => {
    expect(stagedObjectOf(sample)).toEqual({ bucket: "example-bucket", key: "IMG_m7fzo3.jpg", etag: "4e68adba0abe2dc8653dc3354e14c01d", region: "eu-west-1", size: 184662 });
    expect(stagedObjectOf(built as never)).toEqual({ bucket: REFS.stagedBucket, key: "batch/manifests/nightly-42.manifest", etag: "4e68adba0abe2dc8653dc3354e14c01d", region: "eu-west-1", size: 212 });
  });
});
