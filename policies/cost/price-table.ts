/**
 * On-demand list prices (USD, before tax, no free tier, no Savings Plans or reserved
 * capacity) for the regions the stacks use: eu-west-1 (dev, prod) and eu-central-1 (prod's
 * DR side). Retrieved 2026-12-02 with the search tool from the public pages named in each
 * entry; this machine reaches no AWS endpoint, so no price-list offer file was read.
 *
 * `confidence` says how far each figure is checked:
 *   - "confirmed": the AWS page's text, as retrieved, states this figure for this region or
 *     for every region;
 *   - "secondary": a third-party page (its URL in `source`) states it for this region (or
 *     for every region), and the AWS page's text did not show the regional figure;
 *   - "unconfirmed": AWS's pricing pages render regional figures by script, so the retrieved
 *     text did not show them, and no other page did either. The figure is the list price as
 *     the author last knew it; check it in the AWS Pricing Calculator before relying on it.
 *
 * Adding a priced kind: add an entry here (a key, its unit and a price per region), then a
 * pricer in estimate.ts (PRICERS) that turns a resource's inputs into quantities of it.
 */

export type PriceConfidence = "confirmed" | "secondary" | "unconfirmed";

export interface RegionalPrice {
  readonly usd: number;
  readonly confidence: PriceConfidence;
  /** Where the figure came from (an AWS pricing page, or the third-party page that stated it). */
  readonly source: string;
  readonly note?: string;
}

export interface PriceEntry {
  readonly description: string;
  /** What one unit is: "hour", "GB-month", "million requests"... */
  readonly unit: string;
  readonly regions: Readonly<Record<string, RegionalPrice>>;
}

export interface PriceTable {
  /** The day the prices were looked up (YYYY-MM-DD). */
  readonly retrieved: string;
  readonly currency: "USD";
  /** The month the estimate prices: AWS's own convention for monthly figures. */
  readonly hoursPerMonth: number;
  readonly entries: Readonly<Record<string, PriceEntry>>;
}

const VPC = "https://aws.amazon.com/vpc/pricing/";
const PRIVATELINK = "https://aws.amazon.com/privatelink/pricing/";
const KINESIS = "https://aws.amazon.com/kinesis/data-streams/pricing/";
const AURORA = "https://aws.amazon.com/rds/aurora/pricing/";
const REDSHIFT = "https://aws.amazon.com/redshift/pricing/";
const ELASTICACHE = "https://aws.amazon.com/elasticache/pricing/";
const LAMBDA = "https://aws.amazon.com/lambda/pricing/";
const DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
const S3 = "https://aws.amazon.com/s3/pricing/";
const FIREHOSE = "https://aws.amazon.com/firehose/pricing/";
const KMS = "https://aws.amazon.com/kms/pricing/";
const SECRETS = "https://aws.amazon.com/secrets-manager/pricing/";
const CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/";
const GLUE = "https://aws.amazon.com/glue/pricing/";
const EMR = "https://aws.amazon.com/emr/pricing/";
const STEP_FUNCTIONS = "https://aws.amazon.com/step-functions/pricing/";
const EVENTBRIDGE = "https://aws.amazon.com/eventbridge/pricing/";
const DMS = "https://aws.amazon.com/dms/pricing/";

const NOT_IN_TEXT = "regional figure not in the retrieved page text (rendered by script)";

/** One figure for both regions, with the same provenance. */
function both(usd: number, confidence: PriceConfidence, source: string, note?: string): Record<string, RegionalPrice> {
  const price = { usd, confidence, source, ...(note ? { note } : {}) };
  return { "eu-west-1": price, "eu-central-1": price };
}

/** Different figures per region, each unconfirmed (see the header) unless stated. */
function perRegion(source: string, ireland: number, frankfurt: number, note = NOT_IN_TEXT): Record<string, RegionalPrice> {
  return {
    "eu-west-1": { usd: ireland, confidence: "unconfirmed", source, note },
    "eu-central-1": { usd: frankfurt, confidence: "unconfirmed", source, note },
  };
}

const NAT_GUIDE = "https://cloudpipelines.pages.dev/guides/aws-nat-gateway-pricing-2026/";

/** NAT gateways: the guide gives Europe (Ireland, Frankfurt, London) as ~$0.048-0.052, per hour and per GB alike; the upper end is taken for Frankfurt. */
function natFromGuide(ireland: number, frankfurt: number): Record<string, RegionalPrice> {
  const note = `the guide gives Europe as ~$0.048-0.052; ${VPC}: ${NOT_IN_TEXT}`;
  return {
    "eu-west-1": { usd: ireland, confidence: "secondary", source: NAT_GUIDE, note },
    "eu-central-1": { usd: frankfurt, confidence: "secondary", source: NAT_GUIDE, note },
  };
}

const S3_CLASSES_POST = "https://blog.pesky.moe/posts/2025-09-14-s3-class";

/** S3 storage classes: a post states the eu-central-1 figures; the eu-west-1 ones were not found. */
function s3FrankfurtFromBlog(ireland: number, frankfurt: number): Record<string, RegionalPrice> {
  return {
    "eu-west-1": { usd: ireland, confidence: "unconfirmed", source: S3, note: NOT_IN_TEXT },
    "eu-central-1": { usd: frankfurt, confidence: "secondary", source: S3_CLASSES_POST, note: `states ${frankfurt} per GB-month for eu-central-1; ${S3}: ${NOT_IN_TEXT}` },
  };
}

const GLUE_GUIDE = "https://awsnegotiations.com/glue-job-cost-optimization.html";

/** Glue: a guide states the DPU-hour for Spark jobs and crawlers with no region named; the AWS page's own examples use the same $0.44 and say prices vary by region. */
function glueFromGuide(what: string): Record<string, RegionalPrice> {
  return both(0.44, "secondary", GLUE_GUIDE, `states $0.44 per DPU-hour for ${what} (no region named); ${GLUE} uses $0.44 in its examples and says pricing may vary by region, the regional figure rendered by script`);
}

const US_EAST = `the US East figure; ${NOT_IN_TEXT}, and European figures may be higher`;

export const PRICE_TABLE: PriceTable = {
  retrieved: "2026-12-02",
  currency: "USD",
  hoursPerMonth: 730,
  entries: {
    "vpc.nat-gateway.hour": { description: "NAT gateway provisioned", unit: "hour", regions: natFromGuide(0.048, 0.052) },
    "vpc.nat-gateway.gb": { description: "NAT gateway data processed", unit: "GB", regions: natFromGuide(0.048, 0.052) },
    "privatelink.interface-endpoint.az-hour": {
      description: "Interface VPC endpoint, per AZ it is provisioned in",
      unit: "AZ-hour",
      regions: perRegion(PRIVATELINK, 0.011, 0.012),
    },
    "privatelink.interface-endpoint.gb": {
      description: "Interface VPC endpoint data processed (first 1 PB per region)",
      unit: "GB",
      regions: both(0.01, "confirmed", PRIVATELINK, "tier table: first 1 PB $0.01, next 4 PB $0.006, over 5 PB $0.004 (the page's tiers apply in every region)"),
    },
    "kinesis.provisioned.shard-hour": { description: "Kinesis Data Streams provisioned shard", unit: "shard-hour", regions: perRegion(KINESIS, 0.015, 0.018) },
    "kinesis.provisioned.put-payload-units": {
      description: "Kinesis PUT payload units (25 KB chunks of a record)",
      unit: "million units",
      regions: perRegion(KINESIS, 0.014, 0.0168),
    },
    "kinesis.provisioned.extended-retention.shard-hour": {
      description: "Kinesis extended retention (24 h to 7 days), provisioned",
      unit: "shard-hour",
      regions: perRegion(KINESIS, 0.02, 0.024),
    },
    "kinesis.on-demand.stream-hour": {
      description: "Kinesis on-demand stream",
      unit: "stream-hour",
      regions: perRegion(KINESIS, 0.04, 0.04, `the US East figure; ${NOT_IN_TEXT}, and European figures may be higher`),
    },
    "kinesis.on-demand.data-in.gb": {
      description: "Kinesis on-demand data written (records rounded up to 1 KB)",
      unit: "GB",
      regions: perRegion(KINESIS, 0.08, 0.08, `the US East figure; ${NOT_IN_TEXT}, and European figures may be higher`),
    },
    "kinesis.on-demand.data-out.gb": {
      description: "Kinesis on-demand data read (per consumer)",
      unit: "GB",
      regions: perRegion(KINESIS, 0.04, 0.04, `the US East figure; ${NOT_IN_TEXT}, and European figures may be higher`),
    },
    "aurora-postgresql.instance.db.t4g.medium": { description: "Aurora PostgreSQL (Standard) db.t4g.medium", unit: "instance-hour", regions: perRegion(AURORA, 0.08, 0.087) },
    "aurora-postgresql.instance.db.r6g.large": { description: "Aurora PostgreSQL (Standard) db.r6g.large", unit: "instance-hour", regions: perRegion(AURORA, 0.286, 0.314) },
    "aurora-postgresql.instance.db.r6g.xlarge": { description: "Aurora PostgreSQL (Standard) db.r6g.xlarge", unit: "instance-hour", regions: perRegion(AURORA, 0.572, 0.628) },
    "aurora.storage.gb-month": { description: "Aurora Standard storage", unit: "GB-month", regions: perRegion(AURORA, 0.11, 0.12) },
    "aurora.io.million": { description: "Aurora Standard I/O requests", unit: "million requests", regions: perRegion(AURORA, 0.22, 0.24) },
    "redshift.node.ra3.xlplus": { description: "Redshift ra3.xlplus node", unit: "node-hour", regions: perRegion(REDSHIFT, 1.16, 1.3) },
    "redshift.managed-storage.gb-month": { description: "Redshift managed storage (RA3, Serverless)", unit: "GB-month", regions: perRegion(REDSHIFT, 0.024, 0.027) },
    "redshift-serverless.rpu-hour": { description: "Redshift Serverless compute", unit: "RPU-hour", regions: perRegion(REDSHIFT, 0.375, 0.45) },
    "elasticache.node.cache.t4g.micro": { description: "ElastiCache (Redis OSS) cache.t4g.micro node", unit: "node-hour", regions: perRegion(ELASTICACHE, 0.0176, 0.018) },
    "elasticache.node.cache.r7g.large": { description: "ElastiCache (Redis OSS) cache.r7g.large node", unit: "node-hour", regions: perRegion(ELASTICACHE, 0.243, 0.262) },
    "lambda.requests": {
      description: "Lambda requests",
      unit: "million requests",
      regions: both(0.2, "unconfirmed", LAMBDA, "the page's worked examples state $0.20 per 1M requests for US East; the regional table is rendered by script"),
    },
    "lambda.x86.gb-second": {
      description: "Lambda duration, x86, first pricing tier",
      unit: "GB-second",
      regions: both(0.0000166667, "unconfirmed", LAMBDA, "the US East first-tier figure (https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html gives $0.00001667); the regional table is rendered by script"),
    },
    "lambda.arm.gb-second": {
      description: "Lambda duration, Arm, first pricing tier",
      unit: "GB-second",
      regions: both(0.0000133334, "unconfirmed", LAMBDA, "the US East first-tier figure; the regional table is rendered by script"),
    },
    "dynamodb.on-demand.write.million": { description: "DynamoDB on-demand write request units (Standard table class)", unit: "million WRU", regions: perRegion(DYNAMODB, 0.7068, 0.7625) },
    "dynamodb.on-demand.read.million": { description: "DynamoDB on-demand read request units (Standard table class)", unit: "million RRU", regions: perRegion(DYNAMODB, 0.1413, 0.1525) },
    "dynamodb.on-demand.replicated-write.million": { description: "DynamoDB global table replicated write request units", unit: "million rWRU", regions: perRegion(DYNAMODB, 0.7068, 0.7625) },
    "dynamodb.storage.gb-month": { description: "DynamoDB storage (Standard table class, beyond the first 25 GB)", unit: "GB-month", regions: perRegion(DYNAMODB, 0.283, 0.306) },
    "s3.standard.gb-month": { description: "S3 Standard storage (first 50 TB)", unit: "GB-month", regions: s3FrankfurtFromBlog(0.023, 0.0245) },
    "s3.standard-ia.gb-month": { description: "S3 Standard-Infrequent Access storage", unit: "GB-month", regions: s3FrankfurtFromBlog(0.0125, 0.0135) },
    "s3.glacier-flexible.gb-month": { description: "S3 Glacier Flexible Retrieval storage", unit: "GB-month", regions: perRegion(S3, 0.0036, 0.0045) },
    "firehose.ingest.gb": { description: "Firehose data ingested (records rounded up to 5 KB), first 500 TB", unit: "GB", regions: perRegion(FIREHOSE, 0.031, 0.034) },
    "firehose.format-conversion.gb": { description: "Firehose format conversion (JSON to Parquet/ORC)", unit: "GB", regions: perRegion(FIREHOSE, 0.018, 0.018, `the US East figure; ${NOT_IN_TEXT}`) },
    "glue.etl.dpu-hour": {
      description: "Glue ETL (Spark) job, Standard execution class: billed per second, 1-minute minimum per run (Glue 2.0 and later)",
      unit: "DPU-hour",
      regions: glueFromGuide("Spark jobs, billed per second with a one-minute minimum"),
    },
    "glue.crawler.dpu-hour": {
      description: "Glue crawler: billed per second, 10-minute minimum per crawl",
      unit: "DPU-hour",
      regions: glueFromGuide("crawlers, with a ten-minute minimum per crawl"),
    },
    "emr-serverless.x86.vcpu-hour": { description: "EMR Serverless, x86_64 workers, vCPU", unit: "vCPU-hour", regions: perRegion(EMR, 0.052624, 0.052624, US_EAST) },
    "emr-serverless.x86.gb-hour": { description: "EMR Serverless, x86_64 workers, memory", unit: "GB-hour", regions: perRegion(EMR, 0.0057785, 0.0057785, US_EAST) },
    "emr-serverless.arm.vcpu-hour": { description: "EMR Serverless, ARM64 (Graviton) workers, vCPU", unit: "vCPU-hour", regions: perRegion(EMR, 0.042094, 0.042094, US_EAST) },
    "emr-serverless.arm.gb-hour": { description: "EMR Serverless, ARM64 (Graviton) workers, memory", unit: "GB-hour", regions: perRegion(EMR, 0.004628, 0.004628, US_EAST) },
    "stepfunctions.standard.thousand-transitions": {
      description: "Step Functions Standard workflow state transitions (each retry is one more)",
      unit: "thousand state transitions",
      regions: both(0.025, "confirmed", STEP_FUNCTIONS, "the page's state transitions table: Europe (Ireland) $0.0250 and Europe (Frankfurt) $0.0250 per 1,000"),
    },
    "scheduler.invocations.million": {
      description: "EventBridge Scheduler invocations",
      unit: "million invocations",
      regions: both(1, "unconfirmed", EVENTBRIDGE, `https://cloudburn.io/blog/amazon-eventbridge-pricing states $1.00 per million for US East, "consistent across most commercial regions"; ${NOT_IN_TEXT}`),
    },
    "dms.instance.dms.t3.medium": { description: "DMS replication instance dms.t3.medium (Single-AZ)", unit: "instance-hour", regions: perRegion(DMS, 0.08, 0.086) },
    "dms.instance.dms.t3.large": { description: "DMS replication instance dms.t3.large (Single-AZ)", unit: "instance-hour", regions: perRegion(DMS, 0.16, 0.172) },
    "dms.instance.dms.c5.large": { description: "DMS replication instance dms.c5.large (Single-AZ)", unit: "instance-hour", regions: perRegion(DMS, 0.172, 0.194) },
    "dms.instance.dms.r5.large": { description: "DMS replication instance dms.r5.large (Single-AZ)", unit: "instance-hour", regions: perRegion(DMS, 0.234, 0.252) },
    "dms.storage.gb-month": { description: "DMS replication instance storage (General Purpose SSD) beyond the included amount, Single-AZ", unit: "GB-month", regions: perRegion(DMS, 0.127, 0.137) },
    "kms.key-month": {
      description: "KMS key (each multi-Region primary and each replica counts)",
      unit: "key-month",
      regions: both(1, "confirmed", KMS, "\"Each AWS KMS key that you create in KMS costs $1/month\", the same for each multi-Region primary and replica; rotation adds $1/month per rotated backing key (not priced here)"),
    },
    "secretsmanager.secret-month": {
      description: "Secrets Manager secret (each replica is billed as a secret)",
      unit: "secret-month",
      regions: both(0.4, "secondary", "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms", `states $0.40 per secret per month (no region named); ${SECRETS} was not retrieved; that a replica bills as a secret is the author's understanding`),
    },
    "cloudwatch.alarm.standard.metric-month": {
      description: "CloudWatch standard-resolution alarm, per metric",
      unit: "alarm metric-month",
      regions: both(0.1, "secondary", "https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm", `states $0.10 per standard alarm-month; ${CLOUDWATCH} says prices vary by region and renders them by script`),
    },
    "cloudwatch.alarm.high-resolution.metric-month": {
      description: "CloudWatch high-resolution alarm, per metric",
      unit: "alarm metric-month",
      regions: both(0.3, "secondary", "https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm", `states $0.30 per high-resolution alarm-month; ${CLOUDWATCH}: ${NOT_IN_TEXT}`),
    },
  },
};

/** The price of one unit of `key` in `region`, or undefined when the table has none. */
export function priceOf(table: PriceTable, key: string, region: string): (RegionalPrice & { readonly unit: string }) | undefined {
  const entry = table.entries[key];
  const regional = entry?.regions[region];
  return entry && regional ? { ...regional, unit: entry.unit } : undefined;
}
