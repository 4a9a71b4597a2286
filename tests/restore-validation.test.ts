/**
 * The restore-test validator (functions/restore-validation.ts).
 *
 * What runs where: DynamoDB and S3 checks run against dynalite and s3rver (real tables,
 * buckets and objects). AWS Backup, RDS and CloudWatch have no emulator, so their clients
 * are stubbed with aws-sdk-client-mock over state models that move through the real status
 * values: restore jobs PENDING → RUNNING → COMPLETED (or FAILED) with validation VALIDATING →
 * SUCCESSFUL | FAILED | TIMED_OUT, restored clusters creating → backing-up → available.
 * dynalite does not implement server-side encryption, so a middleware on the DynamoDB client
 * adds to DescribeTable the SSEDescription each table was created with, as DynamoDB reports it.
 */
import {
  BackupClient,
  DescribeRestoreJobCommand,
  DescribeRestoreJobCommandOutput,
  PutRestoreValidationResultCommand,
  PutRestoreValidationResultCommandInput,
  ResourceNotFoundException,
} from "@aws-sdk/client-backup";
import { CloudWatchClient, PutMetricDataCommand, PutMetricDataCommandInput } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, PutItemCommand, SSEDescription } from "@aws-sdk/client-dynamodb";
import { DBCluster, DBClusterNotFoundFault, DescribeDBClustersCommand, RDSClient } from "@aws-sdk/client-rds";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { restoreValidatorFactory } from "../components/backup/restore-testing";
import {
  METRIC_TESTS_FAILED,
  METRIC_TESTS_SUCCEEDED,
  RESTORE_TEST_PREFIX,
  RestoreJobStateChangeEvent,
  RestoreValidationClients,
  RestoreValidationSettings,
  clusterProblems,
  handleRestoreJobEvent,
  resourceNameOf,
  restoreValidationSettingsFromEnv,
} from "../functions/restore-validation";
import { RunningEmulator, createTableAndWait, dynamoDbClient, expectShipsAsFactory, invokeShipped, s3Client, startDynalite, startS3rver } from "./support/aws-emulators";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const PLAN_ARN = `arn:aws:backup:${REGION}:${ACCOUNT}:restore-testing-plan:dp_prod_restore_tests-abc`;
const DATA_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/mrk-data`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/other`;
const SOURCE_BUCKET = "dp-prod-lake-raw";
const RESTORED_BUCKET = `${RESTORE_TEST_PREFIX}raw-1`;
const EMPTY_RESTORED_BUCKET = `${RESTORE_TEST_PREFIX}raw-2`;

/** AWS Backup's restore jobs and their validation, as the API reports them. */
class BackupModel {
  readonly jobs = new Map<string, DescribeRestoreJobCommandOutput>();
  readonly reports: PutRestoreValidationResultCommandInput[] = [];

  attach(client: BackupClient) {
    const mock = mockClient(client);
    mock.on(DescribeRestoreJobCommand).callsFake(({ RestoreJobId }) => {
      const job = this.jobs.get(RestoreJobId);
      if (job === undefined) throw new ResourceNotFoundException({ message: `No restore job ${RestoreJobId}`, $metadata: {} });
      return { ...job };
    });
    mock.on(PutRestoreValidationResultCommand).callsFake((input: PutRestoreValidationResultCommandInput) => {
      const job = this.jobs.get(input.RestoreJobId!);
      if (job?.Status !== "COMPLETED") throw new Error(`InvalidRequestException: restore job ${input.RestoreJobId} is ${job?.Status}`);
      this.reports.push(input);
      this.jobs.set(input.RestoreJobId!, { ...job, ValidationStatus: input.ValidationStatus, ValidationStatusMessage: input.ValidationStatusMessage });
      return {};
    });
    return mock;
  }

  /** A restore test job that then runs: PENDING → RUNNING → `finalStatus`. */
  start(id: string, job: Partial<DescribeRestoreJobCommandOutput>, finalStatus: "COMPLETED" | "FAILED" | "ABORTED" = "COMPLETED") {
    this.jobs.set(id, { RestoreJobId: id, Status: "PENDING", CreatedBy: { RestoreTestingPlanArn: PLAN_ARN }, $metadata: {}, ...job });
    for (const status of ["RUNNING", finalStatus] as const) this.jobs.set(id, { ...this.jobs.get(id)!, Status: status });
  }

  statuses(id: string) {
    return this.reports.filter((r) => r.RestoreJobId === id).map((r) => r.ValidationStatus);
  }
}

/** RDS clusters; a restored one moves one status further at each describe. */
class RdsModel {
  private readonly clusters = new Map<string, { cluster: DBCluster; pending: string[] }>();

  add(cluster: DBCluster, statusesToCome: string[] = []) {
    this.clusters.set(cluster.DBClusterArn!, { cluster, pending: [...statusesToCome] });
  }

  attach(client: RDSClient) {
    mockClient(client).on(DescribeDBClustersCommand).callsFake(({ DBClusterIdentifier }) => {
      const entry = this.clusters.get(DBClusterIdentifier);
      if (entry === undefined) throw new DBClusterNotFoundFault({ message: `DBCluster ${DBClusterIdentifier} not found`, $metadata: {} });
      const reported = { ...entry.cluster };
      const next = entry.pending.shift();
      if (next !== undefined) entry.cluster = { ...entry.cluster, Status: next };
      return { DBClusters: [reported] };
    });
  }
}

const clusterArn = (id: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:${id}`;
const auroraCluster = (id: string, overrides: Partial<DBCluster> = {}): DBCluster => ({
  DBClusterIdentifier: id,
  DBClusterArn: clusterArn(id),
  Status: "available",
  Engine: "aurora-postgresql",
  EngineVersion: "16.6",
  StorageEncrypted: true,
  KmsKeyId: DATA_KEY,
  ...overrides,
});

const eventFor = (restoreJobId: string, status = "COMPLETED"): RestoreJobStateChangeEvent => ({
  source: "aws.backup",
  "detail-type": "Restore Job State Change",
  detail: { restoreJobId, status },
});

let dynalite: RunningEmulator;
let s3rver: RunningEmulator;
let dynamodb: DynamoDBClient;
let s3: S3Client;
/** What each table was created with, for the SSE middleware (dynalite ignores SSESpecification). */
const tableEncryption = new Map<string, SSEDescription>();

beforeAll(async () => {
  [dynalite, s3rver] = await Promise.all([startDynalite(), startS3rver([SOURCE_BUCKET, RESTORED_BUCKET, EMPTY_RESTORED_BUCKET])]);
  dynamodb = dynamoDbClient(dynalite);
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const table = (result.output as { Table?: { TableName?: string; SSEDescription?: SSEDescription } }).Table;
      if (context.commandName === "DescribeTableCommand" && table?.TableName) table.SSEDescription = tableEncryption.get(table.TableName);
      return result;
    },
    { step: "initialize", name: "dynaliteReportsSse" },
  );
  s3 = s3Client(s3rver);
  await s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: "api/event-1.json", Body: '{"id":1}' }));
  await s3.send(new PutObjectCommand({ Bucket: RESTORED_BUCKET, Key: "api/event-1.json", Body: '{"id":1}' }));
});

afterAll(async () => {
  await Promise.all([dynalite?.stop(), s3rver?.stop()]);
});

let backup: BackupModel;
let rds: RdsModel;
let metrics: PutMetricDataCommandInput[];
let clients: RestoreValidationClients;
let sleeps: number;
let settings: RestoreValidationSettings;

beforeEach(() => {
  backup = new BackupModel();
  rds = new RdsModel();
  metrics = [];
  const backupClient = new BackupClient({ region: REGION });
  const rdsClient = new RDSClient({ region: REGION });
  const cloudwatch = new CloudWatchClient({ region: REGION });
  backup.attach(backupClient);
  rds.attach(rdsClient);
  mockClient(cloudwatch).on(PutMetricDataCommand).callsFake((input: PutMetricDataCommandInput) => {
    metrics.push(input);
    return {};
  });
  clients = { backup: backupClient, rds: rdsClient, dynamodb, s3, cloudwatch };
  sleeps = 0;
  settings = {
    restoreTestingPlanArn: PLAN_ARN,
    restoreTestingPlanName: "dp_prod_restore_tests",
    dataKeyArn: DATA_KEY,
    metricNamespace: "DataPlatform/RestoreTesting",
    maxWaitMs: 60_000,
    pollIntervalMs: 1,
    sleep: async () => {
      sleeps += 1;
    },
    log: () => undefined,
  };
});

/** The verdicts published to CloudWatch: resource type -> [failed, succeeded]. */
const published = () =>
  metrics.map((m) => ({
    type: m.MetricData![0].Dimensions!.find((d) => d.Name === "ResourceType")!.Value,
    plan: m.MetricData![0].Dimensions!.find((d) => d.Name === "RestoreTestingPlan")!.Value,
    failed: m.MetricData!.find((d) => d.MetricName === METRIC_TESTS_FAILED)!.Value,
    succeeded: m.MetricData!.find((d) => d.MetricName === METRIC_TESTS_SUCCEEDED)!.Value,
  }));

describe("Aurora restore tests", () => {
  it("waits for the restored cluster to become available, then reports it valid", async () => {
    rds.add(auroraCluster("dp-prod-oltp"));
    rds.add(auroraCluster(`${RESTORE_TEST_PREFIX}oltp-1`, { Status: "creating" }), ["backing-up", "available"]);
    backup.start("job-aurora", { ResourceType: "Aurora", SourceResourceArn: clusterArn("dp-prod-oltp"), CreatedResourceArn: clusterArn(`${RESTORE_TEST_PREFIX}oltp-1`) });

    const outcome = await handleRestoreJobEvent(eventFor("job-aurora"), clients, settings);
    expect(outcome).toMatchObject({ status: "SUCCESSFUL", resourceType: "Aurora", message: expect.stringContaining("available, aurora-postgresql 16.6") });
    expect(sleeps).toBe(2);
    expect(backup.statuses("job-aurora")).toEqual(["VALIDATING", "SUCCESSFUL"]);
    expect(backup.jobs.get("job-aurora")?.ValidationStatus).toBe("SUCCESSFUL");
    expect(published()).toEqual([{ type: "Aurora", plan: "dp_prod_restore_tests", failed: 0, succeeded: 1 }]);
  });

  it("fails a cluster restored under another key, or of another engine version", async () => {
    rds.add(auroraCluster("dp-prod-oltp"));
    rds.add(auroraCluster(`${RESTORE_TEST_PREFIX}oltp-2`, { KmsKeyId: OTHER_KEY, EngineVersion: "15.4" }));
    backup.start("job-key", { ResourceType: "Aurora", SourceResourceArn: clusterArn("dp-prod-oltp"), CreatedResourceArn: clusterArn(`${RESTORE_TEST_PREFIX}oltp-2`) });

    const outcome = await handleRestoreJobEvent(eventFor("job-key"), clients, settings);
    expect(outcome.status).toBe("FAILED");
    expect(outcome.message).toMatch(/not the data key/);
    expect(outcome.message).toMatch(/15\.4 differs from the source's aurora-postgresql 16\.6/);
    expect(backup.statuses("job-key")).toEqual(["VALIDATING", "FAILED"]);
    expect(published()).toEqual([expect.objectContaining({ failed: 1, succeeded: 0 })]);
  });

  it("times out when the restored cluster is not available before the window closes", async () => {
    rds.add(auroraCluster(`${RESTORE_TEST_PREFIX}oltp-3`, { Status: "creating" }));
    backup.start("job-slow", { ResourceType: "Aurora", CreatedResourceArn: clusterArn(`${RESTORE_TEST_PREFIX}oltp-3`) });

    const outcome = await handleRestoreJobEvent(eventFor("job-slow"), clients, { ...settings, maxWaitMs: 0 });
    expect(outcome).toMatchObject({ status: "TIMED_OUT", message: expect.stringMatching(/still creating/) });
    expect(backup.statuses("job-slow")).toEqual(["VALIDATING", "TIMED_OUT"]);
  });

  it("still judges a restore whose source cluster is gone", async () => {
    rds.add(auroraCluster(`${RESTORE_TEST_PREFIX}oltp-4`));
    backup.start("job-orphan", { ResourceType: "Aurora", SourceResourceArn: clusterArn("deleted-cluster"), CreatedResourceArn: clusterArn(`${RESTORE_TEST_PREFIX}oltp-4`) });
    expect((await handleRestoreJobEvent(eventFor("job-orphan"), clients, settings)).status).toBe("SUCCESSFUL");
  });
});

describe("DynamoDB restore tests (dynalite)", () => {
  const KEY_SCHEMA = [
    { AttributeName: "pk", KeyType: "HASH" as const },
    { AttributeName: "sk", KeyType: "RANGE" as const },
  ];
  const tableArn = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
  async function createTable(name: string, encryption: SSEDescription | undefined, keySchema = KEY_SCHEMA) {
    await createTableAndWait(dynamodb, {
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: keySchema.map((key) => ({ AttributeName: key.AttributeName, AttributeType: "S" })),
      KeySchema: keySchema,
    });
    if (encryption) tableEncryption.set(name, encryption);
  }
  const underDataKey: SSEDescription = { Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: DATA_KEY };

  beforeAll(async () => {
    await createTable("dp-prod-speed-layer", underDataKey);
    await createTable(`${RESTORE_TEST_PREFIX}speed-1`, underDataKey);
    await dynamodb.send(new PutItemCommand({ TableName: `${RESTORE_TEST_PREFIX}speed-1`, Item: { pk: { S: "device#1" }, sk: { S: "2026-11-21T10:00:00Z" } } }));
    await createTable(`${RESTORE_TEST_PREFIX}speed-2`, undefined);
    await createTable(`${RESTORE_TEST_PREFIX}speed-3`, underDataKey, [{ AttributeName: "id", KeyType: "HASH" }]);
  });

  it("reports a table restored under the data key with its source's key schema, reading one item", async () => {
    backup.start("job-table", { ResourceType: "DynamoDB", SourceResourceArn: tableArn("dp-prod-speed-layer"), CreatedResourceArn: tableArn(`${RESTORE_TEST_PREFIX}speed-1`) });
    const outcome = await handleRestoreJobEvent(eventFor("job-table"), clients, settings);
    expect(outcome).toMatchObject({ status: "SUCCESSFUL", message: `table ${RESTORE_TEST_PREFIX}speed-1 ACTIVE, 1 item(s) sampled` });
    expect(backup.statuses("job-table")).toEqual(["VALIDATING", "SUCCESSFUL"]);
  });

  it("fails a table left under an AWS-owned key", async () => {
    backup.start("job-owned", { ResourceType: "DynamoDB", SourceResourceArn: tableArn("dp-prod-speed-layer"), CreatedResourceArn: tableArn(`${RESTORE_TEST_PREFIX}speed-2`) });
    const outcome = await handleRestoreJobEvent(eventFor("job-owned"), clients, settings);
    expect(outcome).toMatchObject({ status: "FAILED", message: expect.stringMatching(/not encrypted with a customer key/) });
  });

  it("fails a table whose key schema differs from its source's", async () => {
    backup.start("job-schema", { ResourceType: "DynamoDB", SourceResourceArn: tableArn("dp-prod-speed-layer"), CreatedResourceArn: tableArn(`${RESTORE_TEST_PREFIX}speed-3`) });
    const outcome = await handleRestoreJobEvent(eventFor("job-schema"), clients, settings);
    expect(outcome.message).toMatch(/key schema \(id HASH\) differs from the source's \(pk HASH, sk RANGE\)/);
  });

  it("fails, with the service's error, when the restored table does not exist", async () => {
    backup.start("job-missing", { ResourceType: "DynamoDB", CreatedResourceArn: tableArn(`${RESTORE_TEST_PREFIX}gone`) });
    const outcome = await handleRestoreJobEvent(eventFor("job-missing"), clients, settings);
    expect(outcome).toMatchObject({ status: "FAILED", message: expect.stringMatching(/^ResourceNotFoundException/) });
    expect(backup.statuses("job-missing")).toEqual(["VALIDATING", "FAILED"]);
  });
});

describe("S3 restore tests (s3rver)", () => {
  it("reads an object from the restored bucket", async () => {
    backup.start("job-bucket", { ResourceType: "S3", SourceResourceArn: `arn:aws:s3:::${SOURCE_BUCKET}`, CreatedResourceArn: `arn:aws:s3:::${RESTORED_BUCKET}` });
    const outcome = await handleRestoreJobEvent(eventFor("job-bucket"), clients, settings);
    expect(outcome).toMatchObject({ status: "SUCCESSFUL", message: `bucket ${RESTORED_BUCKET} readable (api/event-1.json)` });
  });

  it("fails an empty restore of a bucket that holds objects", async () => {
    backup.start("job-empty", { ResourceType: "S3", SourceResourceArn: `arn:aws:s3:::${SOURCE_BUCKET}`, CreatedResourceArn: `arn:aws:s3:::${EMPTY_RESTORED_BUCKET}` });
    const outcome = await handleRestoreJobEvent(eventFor("job-empty"), clients, settings);
    expect(outcome).toMatchObject({ status: "FAILED", message: expect.stringMatching(/empty although its source holds objects/) });
  });
});

describe("which jobs are judged", () => {
  it("skips restores that are not this plan's tests, reporting nothing", async () => {
    backup.start("job-manual", { ResourceType: "DynamoDB", CreatedBy: {} });
    backup.start("job-other-plan", { ResourceType: "DynamoDB", CreatedBy: { RestoreTestingPlanArn: `${PLAN_ARN}-other` } });
    for (const id of ["job-manual", "job-other-plan"]) {
      expect((await handleRestoreJobEvent(eventFor(id), clients, settings)).status).toBe("SKIPPED");
    }
    expect(backup.reports).toEqual([]);
    expect(metrics).toEqual([]);
  });

  it("counts a failed or aborted restore job as a failed test, without a validation to report", async () => {
    backup.start("job-failed", { ResourceType: "Aurora", StatusMessage: "Access denied to KMS key" }, "FAILED");
    backup.start("job-aborted", { ResourceType: "S3" }, "ABORTED");
    expect(await handleRestoreJobEvent(eventFor("job-failed", "FAILED"), clients, settings)).toMatchObject({ status: "FAILED", message: "restore job FAILED: Access denied to KMS key" });
    expect((await handleRestoreJobEvent(eventFor("job-aborted", "ABORTED"), clients, settings)).status).toBe("FAILED");
    expect(backup.reports).toEqual([]);
    expect(published()).toEqual([expect.objectContaining({ type: "Aurora", failed: 1 }), expect.objectContaining({ type: "S3", failed: 1 })]);
  });

  it("gives one verdict per job when EventBridge delivers its event twice", async () => {
    rds.add(auroraCluster(`${RESTORE_TEST_PREFIX}oltp-5`));
    backup.start("job-twice", { ResourceType: "Aurora", CreatedResourceArn: clusterArn(`${RESTORE_TEST_PREFIX}oltp-5`) });
    await handleRestoreJobEvent(eventFor("job-twice"), clients, settings);
    expect((await handleRestoreJobEvent(eventFor("job-twice"), clients, settings)).status).toBe("SKIPPED");
    expect(backup.statuses("job-twice")).toEqual(["VALIDATING", "SUCCESSFUL"]);
  });

  it("fails a type it has no check for rather than passing it unexamined", async () => {
    backup.start("job-ebs", { ResourceType: "EBS", CreatedResourceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-1` });
    expect(await handleRestoreJobEvent(eventFor("job-ebs"), clients, settings)).toMatchObject({ status: "FAILED", message: "no validation is defined for resource type EBS" });
  });
});

describe("pure parts", () => {
  it("names resources from their ARNs", () => {
    expect(resourceNameOf(clusterArn("c1"))).toBe("c1");
    expect(resourceNameOf(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/t1`)).toBe("t1");
    expect(resourceNameOf("arn:aws:s3:::b1")).toBe("b1");
  });

  it("refuses unencrypted clusters", () => {
    expect(clusterProblems(auroraCluster("c", { StorageEncrypted: false }), undefined, DATA_KEY)).toEqual(["storage is not encrypted"]);
  });

  it("reads its settings from the environment and names what is missing", () => {
    const env = { RESTORE_TESTING_PLAN_ARN: PLAN_ARN, RESTORE_TESTING_PLAN_NAME: "p", DATA_KEY_ARN: DATA_KEY, METRIC_NAMESPACE: "ns", MAX_WAIT_MS: "540000" };
    expect(restoreValidationSettingsFromEnv(env)).toMatchObject({ restoreTestingPlanArn: PLAN_ARN, maxWaitMs: 540000 });
    expect(() => restoreValidationSettingsFromEnv({ ...env, DATA_KEY_ARN: undefined })).toThrow(/DATA_KEY_ARN is not set/);
  });
});

describe("the validator as shipped", () => {
  it("ships as a factory requiring the runtime's SDK clients", async () => {
    await expectShipsAsFactory(restoreValidatorFactory, /require\("@aws-sdk\/client-backup/);
  });

  it("refuses to start without its settings", async () => {
    await expect(invokeShipped(restoreValidatorFactory, {}, eventFor("job"))).rejects.toThrow(/RESTORE_TESTING_PLAN_ARN is not set/);
  });
});
