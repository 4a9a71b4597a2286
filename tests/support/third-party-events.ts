/**
 * Sample events published by others (Powertools for AWS Lambda, aws-lambda-go), kept
 * unchanged under tests/fixtures/third-party/ with their sources in SOURCES.md. Each call
 * returns a fresh copy, so a test adapts names (buckets, tables, streams) in memory and
 * the files stay as published.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export const THIRD_PARTY_DIR = path.join(__dirname, "..", "fixtures", "third-party");

/** A fresh, mutable copy of one published event, by its path relative to THIRD_PARTY_DIR. */
export function thirdPartyEvent<T = any>(relativePath: string): T {
  return JSON.parse(fs.readFileSync(path.join(THIRD_PARTY_DIR, relativePath), "utf8")) as T;
}

/** The file list of SOURCES.md with the sha256 prefix recorded for each file. */
export function recordedChecksums(): { file: string; sha256Prefix: string }[] {
  const sources = fs.readFileSync(path.join(THIRD_PARTY_DIR, "SOURCES.md"), "utf8");
  return [...sources.matchAll(/^\| `([^`]+\.json)` \| `([0-9a-f]+)…` \|/gm)].map(([, file, sha256Prefix]) => ({ file, sha256Prefix }));
}

export function sha256Of(relativePath: string): string {
  return createHash("sha256").update(fs.readFileSync(path.join(THIRD_PARTY_DIR, relativePath))).digest("hex");
}

/** S3 notifications URL-encode keys as a form would: spaces as "+", slashes kept. */
export function encodeS3NotificationKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+");
}

/** A published S3 notification re-aimed at one object of ours (bucket, key, size); everything else as published. */
export function s3NotificationFor(fixture: string, bucket: string, key: string, size: number) {
  const event = thirdPartyEvent(fixture);
  for (const record of event.Records) {
    record.s3.bucket.name = bucket;
    record.s3.bucket.arn = `arn:aws:s3:::${bucket}`;
    record.s3.object.key = encodeS3NotificationKey(key);
    record.s3.object.size = size;
  }
  return event;
}

/** The HTTP API (payload 2.0) samples published by aws-lambda-go and Powertools (Python and TypeScript). */
export const HTTP_API_V2_EVENTS = [
  "aws-lambda-go/events/testdata/apigw-v2-request-iam.json",
  "aws-lambda-go/events/testdata/apigw-v2-request-jwt-authorizer.json",
  "aws-lambda-go/events/testdata/apigw-v2-request-no-authorizer.json",
  "powertools-lambda-python/tests/events/apiGatewayProxyV2Event_GET.json",
  "powertools-lambda-python/tests/events/apiGatewayProxyV2IamEvent.json",
  "powertools-lambda-python/tests/events/apiGatewayProxyV2OtherGetEvent.json",
  "powertools-lambda-typescript/packages/parser/tests/events/apigw-http/iam-auth.json",
  "powertools-lambda-typescript/packages/parser/tests/events/apigw-http/no-auth.json",
];

/** The samples among them whose query repeats a parameter (API Gateway joins the values with commas). */
export const HTTP_API_V2_REPEATED_PARAMETER_EVENTS = HTTP_API_V2_EVENTS.filter((fixture) => /parameter1=value1&parameter1=value2/.test(JSON.stringify(thirdPartyEvent(fixture))));

/**
 * A published HTTP API request re-aimed at one route of ours: route key, path, path
 * parameters and query are ours, with the query encoded as API Gateway presents it
 * (rawQueryString as sent, queryStringParameters with repeated values joined by commas).
 */
export function httpApiRequestFrom(fixture: string, routeKey: string, rawPath: string, pathParameters: Record<string, string>, query: [string, string][]) {
  const event = thirdPartyEvent(fixture);
  const joined = new Map<string, string[]>();
  for (const [name, value] of query) joined.set(name, [...(joined.get(name) ?? []), value]);
  event.routeKey = routeKey;
  event.rawPath = rawPath;
  event.pathParameters = pathParameters;
  event.rawQueryString = new URLSearchParams(query).toString();
  event.queryStringParameters = query.length > 0 ? Object.fromEntries([...joined].map(([name, values]) => [name, values.join(",")])) : undefined;
  if (event.requestContext) {
    event.requestContext.routeKey = routeKey;
    if (event.requestContext.http) event.requestContext.http = { ...event.requestContext.http, method: routeKey.split(" ")[0], path: rawPath };
  }
  return event;
}
