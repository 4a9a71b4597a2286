/**
 * OltpDatabase under the mock engine, built from the dev and prod stage configs with
 * stand-in foundations, plus its exported validators provoking the apply-time rules.
 */
import * as aws from "@pulumi/aws";
import { OltpDatabase, OltpDatabaseArgs, oltpDatabaseProblems, parameterGroupFamily } from "../components/stores/oltp-database";
import { windowsOverlap } from "../components/lib/maintenance-windows";
import { generateToken } from "../components/lib/secrets";
import { oltpDatabaseArgs } from "../platform/stores";
import { syncClusterParameters } from "../components/batch/warehouse-sync-settings";
import { PlannedResource, StackEvaluation, ofType } from "../scripts/engine";
import { STAND_IN, evaluateWithFoundations, standInSubnets } from "./support/local-databases";
import { ConfigOverrides, single } from "./support/stack";

const CLUSTER = "aws:rds/cluster:Cluster";
const INSTANCE = "aws:rds/clusterInstance:ClusterInstance";
const ENDPOINT = "aws:rds/clusterEndpoint:ClusterEndpoint";

function evaluateOltp(stack: string, overrides: ConfigOverrides = {}): Promise<StackEvaluation> {
  return evaluateWithFoundations(stack, overrides, (f, opts) => {
    const oltp = new OltpDatabase(`${f.prefix}-oltp`, oltpDatabaseArgs(f), opts);
    return {
      reportingEndpoint: oltp.reportingEndpoint,
      credentialsSecretArn: oltp.credentialsSecretArn,
      ...(oltp.globalClusterIdentifier ? { globalClusterIdentifier: oltp.globalClusterIdentifier } : {}),
    };
  });
}

const byName = (plan: StackEvaluation, type: string) => new Map(ofType(plan, type).map((r) => [r.name, r]));

describe.each([
  ["dev", { instances: 2, retention: 2, protect: false, deletionProtection: false }],
  ["prod", { instances: 4, retention: 14, protect: true, deletionProtection: true }],
] as const)("%s OltpDatabase", (stack, expected) => {
  let plan: StackEvaluation;
  let cluster: PlannedResource;
  beforeAll(async () => {
    plan = await evaluateOltp(stack);
    cluster = single(plan, CLUSTER);
  });

  it("evaluates without errors or warnings", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it("keeps storage encrypted with the data key, TLS-only, IAM-authenticated and exporting PostgreSQL logs", () => {
    expect(cluster.inputs).toMatchObject({
      engine: "aurora-postgresql",
      storageEncrypted: true,
      kmsKeyId: STAND_IN.dataKeyArn,
      iamDatabaseAuthenticationEnabled: true,
      enabledCloudwatchLogsExports: ["postgresql"],
      vpcSecurityGroupIds: [STAND_IN.securityGroupIds.database],
      copyTagsToSnapshot: true,
    });
    const params = single(plan, "aws:rds/clusterParameterGroup:ClusterParameterGroup");
    expect(params.inputs.family).toBe("aurora-postgresql16");
    // Beyond TLS, only what the stage's OLTP -> warehouse sync needs (prod: zero-ETL's logical replication).
    const sync = syncClusterParameters(stack === "prod" ? "zero-etl" : "none").map((p) => ({ ...p, applyMethod: "pending-reboot" }));
    expect(params.inputs.parameters).toEqual([{ name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" }, ...sync]);
    const subnets = single(plan, "aws:rds/subnetGroup:SubnetGroup");
    expect(subnets.inputs.subnetIds).toEqual(standInSubnets("isolated", stack === "prod" ? 3 : 2));
    const logs = single(plan, "aws:cloudwatch/logGroup:LogGroup", "-postgresql-logs");
    expect(logs.inputs).toMatchObject({ name: `/aws/rds/cluster/dp-${stack}-oltp/postgresql`, kmsKeyId: STAND_IN.logsKeyArn });
    expect(cluster.dependencies).toContain(logs.urn);
  });

  it(`applies ${stack}'s retention, deletion protection, final snapshot and protect`, () => {
    expect(cluster.inputs.backupRetentionPeriod).toBe(expected.retention);
    expect(cluster.inputs.deletionProtection).toBe(expected.deletionProtection);
    expect(cluster.inputs.skipFinalSnapshot).toBe(!expected.deletionProtection);
    expect(cluster.inputs.finalSnapshotIdentifier).toBe(expected.deletionProtection ? "dp-prod-oltp-final" : undefined);
    expect(cluster.inputs.preferredBackupWindow).toBe("03:00-04:00");
    expect(cluster.protect).toBe(expected.protect);
    for (const instance of ofType(plan, INSTANCE)) expect(instance.protect).toBe(expected.protect);
  });

  it("runs a writer, failover readers and a reporting reader reached only through its custom READER endpoint", () => {
    const instances = byName(plan, INSTANCE);
    expect(instances.size).toBe(expected.instances);
    const writer = instances.get(`dp-${stack}-oltp-writer`)!;
    const reporting = instances.get(`dp-${stack}-oltp-reporting`)!;
    expect(writer.inputs.promotionTier).toBe(0);
    expect(reporting.inputs.promotionTier).toBe(15);
    for (const instance of instances.values()) {
      expect(instance.inputs.publiclyAccessible).toBe(false);
      if (instance !== writer) expect(instance.dependencies).toContain(writer.urn); // the first instance is the writer
      if (instance !== writer && instance !== reporting) expect([0, 1]).toContain(instance.inputs.promotionTier);
    }
    const endpoint = single(plan, ENDPOINT);
    expect(endpoint.inputs).toMatchObject({ customEndpointType: "READER", staticMembers: [`dp-${stack}-oltp-reporting`] });
    expect(plan.outputs.reportingEndpoint).toBe(endpoint.state.endpoint);
  });

  it("manages the master password without any plaintext password input", () => {
    const everything = JSON.stringify(plan.resources.map((r) => r.inputs));
    expect(everything).not.toMatch(/"masterPassword"/);
    expect(plan.outputs.credentialsSecretArn).toMatch(/^arn:aws:secretsmanager:/);
  });
});

describe("dev specifics", () => {
  it("lets RDS manage the master password in Secrets Manager under the data key, with no alarms and no Performance Insights", async () => {
    const plan = await evaluateOltp("dev");
    const cluster = single(plan, CLUSTER);
    expect(cluster.inputs).toMatchObject({ manageMasterUserPassword: true, masterUserSecretKmsKeyId: STAND_IN.dataKeyArn, masterUsername: "platform_admin" });
    expect(cluster.inputs.masterPasswordWo).toBeUndefined();
    expect(cluster.inputs.globalClusterIdentifier).toBeUndefined();
    expect(ofType(plan, "aws:rds/globalCluster:GlobalCluster")).toEqual([]);
    expect(ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")).toEqual([]);
    for (const instance of ofType(plan, INSTANCE)) {
      expect(instance.inputs.instanceClass).toBe("db.t4g.medium");
      expect(instance.inputs.performanceInsightsEnabled).toBe(false);
      expect(instance.inputs.performanceInsightsKmsKeyId).toBeUndefined();
    }
  });

  it("runs every instance as db.serverless within the ACU bounds when serverless is configured", async () => {
    const plan = await evaluateOltp("dev", { auroraServerless: true, auroraServerlessMinAcu: 0, auroraServerlessMaxAcu: 4 });
    expect(single(plan, CLUSTER).inputs.serverlessv2ScalingConfiguration).toEqual({ minCapacity: 0, maxCapacity: 4 });
    for (const instance of ofType(plan, INSTANCE)) expect(instance.inputs.instanceClass).toBe("db.serverless");
  });
});

describe("prod specifics", () => {
  let plan: StackEvaluation;
  beforeAll(async () => {
    plan = await evaluateOltp("prod");
  });

  it("is the primary of an encrypted, deletion-protected Aurora Global Database for DR", () => {
    const global = single(plan, "aws:rds/globalCluster:GlobalCluster");
    expect(global.inputs).toMatchObject({ globalClusterIdentifier: "dp-prod-oltp-global", engine: "aurora-postgresql", engineVersion: "16.6", storageEncrypted: true, deletionProtection: true });
    expect(global.protect).toBe(true);
    const cluster = single(plan, CLUSTER);
    expect(cluster.inputs.globalClusterIdentifier).toBe("dp-prod-oltp-global"); // the global cluster's id is its identifier
    expect(cluster.dependencies).toContain(global.urn);
    expect(cluster.inputs.engineVersion).toBe(global.inputs.engineVersion); // members run the global cluster's version
    expect(plan.outputs.globalClusterIdentifier).toBe("dp-prod-oltp-global");
  });

  it("keeps the generated master password in a KMS secret, reaching RDS only through a write-only input", () => {
    const cluster = single(plan, CLUSTER);
    expect(cluster.inputs.manageMasterUserPassword).toBeUndefined(); // not supported on global members
    expect(cluster.inputs.masterPasswordWoVersion).toBe(1);
    const secret = single(plan, "aws:secretsmanager/secret:Secret", "-master-credentials");
    expect(secret.inputs.kmsKeyId).toBe(STAND_IN.dataKeyArn);
    expect(secret.protect).toBe(true);
    const value = single(plan, "aws:secretsmanager/secretVersion:SecretVersion");
    expect(value.inputs.secretStringWoVersion).toBe(1);
    expect(plan.outputs.credentialsSecretArn).toBe(secret.state.arn);
    // The password is new at every run and both inputs are write-only: the secret may only be
    // written once the cluster has taken the password, or a failed cluster create/update
    // would leave the secret holding a password the cluster never got.
    expect(value.dependencies).toContain(cluster.urn);
  });

  it("makes readers of the credentials secret wait for its value", async () => {
    const withReader = await evaluateWithFoundations("prod", {}, (f, opts) => {
      const oltp = new OltpDatabase(`${f.prefix}-oltp`, oltpDatabaseArgs(f), opts);
      new aws.sqs.Queue("secret-reader", { tags: { Secret: oltp.credentialsSecretArn! } }, { parent: oltp });
      return {};
    });
    const reader = single(withReader, "aws:sqs/queue:Queue", "secret-reader");
    expect(reader.dependencies).toContain(single(withReader, "aws:secretsmanager/secretVersion:SecretVersion").urn);
  });

  it("spreads the writer and failover readers over distinct AZs, with Performance Insights under the data key", () => {
    const instances = byName(plan, INSTANCE);
    const zones = ["writer", "reader-1", "reader-2"].map((suffix) => instances.get(`dp-prod-oltp-${suffix}`)!.inputs.availabilityZone);
    expect(new Set(zones).size).toBe(3);
    for (const instance of instances.values()) {
      expect(instance.inputs).toMatchObject({ performanceInsightsEnabled: true, performanceInsightsKmsKeyId: STAND_IN.dataKeyArn, performanceInsightsRetentionPeriod: 31 });
    }
    expect(instances.get("dp-prod-oltp-reporting")!.inputs.instanceClass).toBe("db.r6g.large");
    expect(instances.get("dp-prod-oltp-writer")!.inputs.instanceClass).toBe("db.r6g.xlarge");
  });

  it("alarms on CPU (writer and readers apart), freeable memory and replica lag to the alarm topic", () => {
    const alarms = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.map((a) => a.inputs.metricName).sort()).toEqual(["AuroraReplicaLag", "CPUUtilization", "CPUUtilization", "FreeableMemory"]);
    for (const alarm of alarms) expect(alarm.inputs.alarmActions).toEqual([STAND_IN.alarmTopicArn]);
    for (const alarm of alarms.filter((a) => a.inputs.metricName !== "CPUUtilization")) expect(alarm.inputs.dimensions).toEqual({ DBClusterIdentifier: "dp-prod-oltp" });
  });

  it("alarms on the writer's CPU and on the hottest reader's, never on a cluster-wide average", () => {
    const cpu = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.inputs.metricName === "CPUUtilization");
    expect(cpu.map((alarm) => [alarm.name, alarm.inputs.dimensions, alarm.inputs.statistic, alarm.inputs.threshold])).toEqual([
      ["dp-prod-oltp-writer-cpu", { DBClusterIdentifier: "dp-prod-oltp", Role: "WRITER" }, "Average", 80],
      ["dp-prod-oltp-reader-cpu", { DBClusterIdentifier: "dp-prod-oltp", Role: "READER" }, "Maximum", 80],
    ]);
  });
});

describe("global secondary (the DR side)", () => {
  it("sets no master credentials and joins the global cluster by identifier", async () => {
    const plan = await evaluateWithFoundations("prod", {}, (f, opts) => {
      const args: OltpDatabaseArgs = { ...oltpDatabaseArgs(f), globalDatabase: { role: "secondary", globalClusterIdentifier: "dp-prod-oltp-global" } };
      const secondary = new OltpDatabase("dp-prod-oltp-dr", args, opts);
      return { hasCredentialsSecret: secondary.credentialsSecretArn !== undefined };
    });
    expect(plan.errors).toEqual([]);
    const cluster = single(plan, CLUSTER);
    expect(cluster.inputs.globalClusterIdentifier).toBe("dp-prod-oltp-global");
    for (const field of ["masterUsername", "manageMasterUserPassword", "masterUserSecretKmsKeyId", "masterPasswordWo", "databaseName"]) {
      expect(cluster.inputs[field]).toBeUndefined();
    }
    expect(ofType(plan, "aws:rds/globalCluster:GlobalCluster")).toEqual([]);
    expect(ofType(plan, "aws:secretsmanager/secret:Secret")).toEqual([]);
    expect(plan.outputs.hasCredentialsSecret).toBe(false);
    expect(plan.warnings).toEqual([]);
  });
});

describe("apply-time rules (exported validators)", () => {
  const base: OltpDatabaseArgs = {
    subnetIds: ["s1", "s2"],
    availabilityZoneCount: 2,
    securityGroupIds: ["sg"],
    kmsKeyArn: "key",
    logsKeyArn: "logs",
    logRetentionDays: 7,
  };
  const problems = (overrides: Partial<OltpDatabaseArgs>, name = "dp-dev-oltp") => oltpDatabaseProblems(name, { ...base, ...overrides }).join("\n");

  it("accepts the defaults", () => {
    expect(oltpDatabaseProblems("dp-dev-oltp", base)).toEqual([]);
  });

  it("derives the parameter group family from the engine's major version", () => {
    expect(parameterGroupFamily("16.6")).toBe("aurora-postgresql16");
    expect(parameterGroupFamily("15.10")).toBe("aurora-postgresql15");
    expect(parameterGroupFamily("9.6.22")).toBe("aurora-postgresql9.6");
    expect(() => parameterGroupFamily("sixteen")).toThrow(/not an Aurora PostgreSQL engine version/);
  });

  it("refuses a family that does not match the engine", () => {
    expect(problems({ engineVersion: "16.6", parameterGroupFamily: "aurora-postgresql15" })).toMatch(/does not match engine version 16.6 \(expects "aurora-postgresql16"\)/);
    expect(problems({ engineVersion: "16.6", parameterGroupFamily: "aurora-postgresql16" })).toBe("");
  });

  it("refuses backup retention outside 1-35", () => {
    expect(problems({ backupRetentionDays: 0 })).toMatch(/backupRetentionDays must be a whole number from 1 to 35, got 0/);
    expect(problems({ backupRetentionDays: 36 })).toMatch(/got 36/);
    expect(problems({ backupRetentionDays: 1 })).toBe("");
    expect(problems({ backupRetentionDays: 35 })).toBe("");
  });

  it("refuses a subnet group in one AZ", () => {
    expect(problems({ availabilityZoneCount: 1 })).toMatch(/at least 2 AZs/);
  });

  it("refuses burstable classes, managed passwords and (on secondaries) master credentials in a global cluster", () => {
    const primary = { role: "primary", globalClusterIdentifier: "dp-prod-oltp-global" } as const;
    const secondary = { role: "secondary", globalClusterIdentifier: "dp-prod-oltp-global" } as const;
    expect(problems({ globalDatabase: primary, instanceClass: "db.t4g.medium" })).toMatch(/db.t4g.medium is burstable/);
    expect(problems({ globalDatabase: primary, reportingInstanceClass: "db.t3.large" })).toMatch(/db.t3.large is burstable/);
    expect(problems({ instanceClass: "db.t4g.medium" })).toBe(""); // fine outside a global cluster
    expect(problems({ globalDatabase: primary, manageMasterUserPassword: true })).toMatch(/manageMasterUserPassword is not supported/);
    expect(problems({ globalDatabase: secondary, masterUsername: "admin" })).toMatch(/secondary sets no master credentials/);
    expect(problems({ globalDatabase: secondary, databaseName: "platform" })).toMatch(/secondary sets no databaseName/);
    expect(problems({ globalDatabase: secondary })).toBe("");
  });

  it("refuses static parameters applied immediately, and overriding rds.force_ssl", () => {
    expect(problems({ extraClusterParameters: [{ name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "immediate" }] })).toMatch(/static parameter: its applyMethod must be "pending-reboot"/);
    expect(problems({ extraClusterParameters: [{ name: "shared_preload_libraries", value: "pg_stat_statements" }] })).toBe("");
    expect(problems({ extraClusterParameters: [{ name: "rds.force_ssl", value: "0" }] })).toMatch(/set by the component/);
  });

  it("refuses inconsistent serverless settings, bad identifiers, PI retention and overlapping windows", () => {
    expect(problems({ serverless: { minAcu: 8, maxAcu: 4 } })).toMatch(/serverless capacity/);
    expect(problems({ serverless: { minAcu: 0.5, maxAcu: 4 }, instanceClass: "db.r6g.large" })).toMatch(/run as db.serverless, not db.r6g.large/);
    expect(problems({ instanceClass: "db.serverless" })).toMatch(/needs serverless capacity/);
    expect(problems({ readerCount: 15 })).toMatch(/readerCount must be 0-14/);
    expect(problems({}, "Bad--name-")).toMatch(/not a valid RDS identifier/);
    expect(problems({ performanceInsightsRetentionDays: 30 })).toMatch(/performanceInsightsRetentionDays/);
    expect(problems({ preferredBackupWindow: "04:00-05:00", preferredMaintenanceWindow: "sun:04:30-sun:05:30" })).toMatch(/overlaps/);
  });

  it("detects window overlaps across midnight and the week's wrap", () => {
    expect(windowsOverlap("03:00-04:00", "sun:04:30-sun:05:30")).toBe(false);
    expect(windowsOverlap("23:30-00:30", "mon:00:00-mon:01:00")).toBe(true);
    expect(windowsOverlap("00:30-01:30", "sat:23:00-sun:01:00")).toBe(true);
    expect(windowsOverlap("02:00-03:00", "sat:23:00-sun:01:00")).toBe(false);
  });

  it("throws every problem at once, before declaring anything", async () => {
    await expect(
      evaluateWithFoundations("dev", {}, (f, opts) => {
        new OltpDatabase("dp-dev-oltp", { ...oltpDatabaseArgs(f), backupRetentionDays: 0, parameterGroupFamily: "aurora-postgresql15" }, opts);
      }),
    ).rejects.toThrow(/OltpDatabase dp-dev-oltp has invalid arguments:\n {2}- backupRetentionDays[^\n]*\n {2}- parameterGroupFamily/);
  });

  it("generates alphanumeric secrets of the requested length", () => {
    const token = generateToken(40);
    expect(token).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(generateToken(40)).not.toBe(token);
  });
});
