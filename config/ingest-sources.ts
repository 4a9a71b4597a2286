/**
 * The ingest sources of a stage: one HTTP route each, with its own schema version,
 * throttle and callers. The list is the one contract the API, the validating front and
 * the local stand-in of API Gateway are all built from (README, Ingest sources).
 */
import { FieldSpec, ValueRule, integerRange, listOf, matching, recordsOf } from "./rules";

export interface IngestSourceConfig {
  /** The `source` every event of this route carries, and the SQS message attribute. */
  readonly name: string;
  /** The POST path of the route, e.g. "/ingest/orders". */
  readonly route: string;
  /** The event schema version this route accepts; an event naming another one is refused. */
  readonly schemaVersion: number;
  /** Steady-state requests per second of the route. */
  readonly rateLimit: number;
  /** Requests the route absorbs at once above the rate. */
  readonly burstLimit: number;
  /** IAM roles or users (or account roots) that may assume this source's producer role: SigV4 (AWS_IAM) callers. */
  readonly iamPrincipals?: readonly string[];
  /** The OAuth scope a JWT must carry (the stage's ingestJwtIssuer and ingestJwtAudience). */
  readonly jwtScope?: string;
}

/** 12 sources in prod; room for growth well inside HTTP API's 300 routes per API. */
export const MAX_INGEST_SOURCES = 50;

const IAM_PRINCIPAL = matching(
  /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(root|(role|user)\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64})$/,
  'an IAM role, user or account-root ARN such as "arn:aws:iam::123456789012:role/order-service"',
);

const INGEST_SOURCE_FIELDS: Record<keyof IngestSourceConfig & string, FieldSpec> = {
  // The event contract's `source` (functions/ingestion-events.ts) is lowercase; the name also ends up in role names.
  name: { rule: matching(/^[a-z][a-z0-9-]{1,30}$/, "2-31 lowercase letters, digits or -, starting with a letter") },
  route: { rule: matching(/^(\/[a-z0-9][a-z0-9-]{0,62}){1,4}$/, 'a POST path of 1-4 lowercase segments such as "/ingest/orders"') },
  schemaVersion: { rule: integerRange(1, 1000) },
  // API Gateway's default account quota is 10,000 requests per second with a burst of 5,000 per region
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html), and a route's throttle cannot
  // exceed the account's (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html).
  rateLimit: { rule: integerRange(1, 10_000) },
  burstLimit: { rule: integerRange(1, 5_000) },
  iamPrincipals: { rule: listOf(IAM_PRINCIPAL, 10), optional: true },
  jwtScope: { rule: matching(/^[A-Za-z0-9._:/-]{1,128}$/, "an OAuth scope of 1-128 letters, digits or ._:/-"), optional: true },
};

/** Exactly one kind of caller per source: a route has one authorization type. */
function oneKindOfCaller(source: IngestSourceConfig): [string, string][] {
  const iam = (source.iamPrincipals ?? []).length > 0;
  const jwt = source.jwtScope !== undefined;
  if (iam && jwt) return [["jwtScope", "left out when iamPrincipals is set (a route is authorised by AWS_IAM or by a JWT, not both)"]];
  if (!iam && !jwt) return [["iamPrincipals", "at least one IAM principal, unless jwtScope is set (every source names who may call it)"]];
  return [];
}

export const INGEST_SOURCES_RULE: ValueRule<IngestSourceConfig[]> = recordsOf<IngestSourceConfig>("ingest sources", INGEST_SOURCE_FIELDS, {
  maxItems: MAX_INGEST_SOURCES,
  unique: ["name", "route"],
  check: oneKindOfCaller,
});

