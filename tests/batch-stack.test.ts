/**
 * The batch layer as the real program declares it, under the mock engine, for every
 * stack: the Glue jobs and their security configuration, the scripts uploaded under
 * content-hashed keys, the crawler and the projected table, EMR Serverless where the
 * stage enables it, the state machine (its definition, logging, tracing, encryption,
 * role), the schedule, and the loader target only the pipeline triggers. dev and prod
 * differ only through their config.
 */
import { StackEvaluation, ofType } from "../scripts/engine";
import { batchSummary, stateOrder } from "../scripts/plan-batch";
import { BATCH_MANIFEST_PREFIX } from "../components/batch/batch-settings";
import { evaluate, single, stageValue, statementsOf } from "./support/stack";
import { cachedEvaluateStack } from "./support/evaluation-cache";
import { evaluateStage } from "../scripts/stage-evaluation";

const T = {
  job: "aws:glue/job:Job",
  securityConfiguration: "aws:glue/securityConfiguration:SecurityConfiguration",
  crawler: "aws:glue/crawler:Crawler",
  table: "aws:glue/catalogTable:CatalogTable",
  object: "aws:s3/bucketObjectv2:BucketObjectv2",
  emr: "aws:emrserverless/application:Application",
  machine: "aws:sfn/stateMachine:StateMachine",
  schedule: "aws:scheduler/schedule:Schedule",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  role: "aws:iam/role:Role",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  rule: "aws:cloudwatch/eventRule:EventRule",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  fn: "aws:lambda/function:Function",
} as const;

const stacks = ["dev", "prod"] as const;
const plans: Record<string, StackEvaluation> = {};

beforeAll(async () => {
  for (const stack of stacks) plans[stack] = await evaluate(stack);
}, 300_000);

const definitionOf = (plan: StackEvaluation) => JSON.parse(single(plan, T.machine, "batch-pipeline-machine").inputs.definition as string);
const actionsOf = (statements: any[]): string[] => statements.flatMap((s) => [s.Action].flat());

describe.each(stacks)("the batch layer in %s", (stack) => {
  const plan = () => plans[stack];

  it("evaluates without errors or warnings", () => {
    expect(plan().errors).toEqual([]);
    expect(plan().warnings).toEqual([]);
  });

  it("runs two Glue 5 Spark jobs sized from the config, one run at a time, under a KMS security configuration", () => {
    const security = single(plan(), T.securityConfiguration, "batch-security");
    const encryption = security.inputs.encryptionConfiguration;
    expect(encryption.s3Encryption).toMatchObject({ s3EncryptionMode: "SSE-KMS", kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/) });
    expect(encryption.cloudwatchEncryption).toMatchObject({ cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/) });
    expect(encryption.jobBookmarksEncryption).toMatchObject({ jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/) });
    for (const job of ["batch-file", "curation"]) {
      const glue = single(plan(), T.job, `batch-${job}`).inputs;
      expect(glue).toMatchObject({
        glueVersion: "5.0",
        command: { name: "glueetl", pythonVersion: "3" },
        workerType: stageValue(stack, "glueWorkerType", "G.1X"),
        numberOfWorkers: Number(stageValue(stack, "glueWorkerCount", 2)),
        timeout: Number(stageValue(stack, "glueJobTimeoutMinutes", 60)),
        executionProperty: { maxConcurrentRuns: 1 },
        maxRetries: 0,
        securityConfiguration: security.inputs.name,
      });
      expect(glue.defaultArguments).toMatchObject({
        "--job-bookmark-option": "job-bookmark-enable",
        "--enable-continuous-cloudwatch-log": "true",
        "--custom-logGroup-prefix": expect.stringMatching(/^\/aws-glue\/jobs\//),
        "--extra-py-files": expect.stringMatching(/^s3:\/\/.+\/scripts\/[0-9a-f]{16}\/batch_events\.zip$/),
      });
      expect(glue.command.scriptLocation).toMatch(new RegExp(`^s3://.+/scripts/[0-9a-f]{16}/${job.replace("-", "_")}_job\\.py$`));
    }
    for (const stream of ["error", "output"]) {
      const logs = single(plan(), T.logGroup, `batch-logs-${stream}`).inputs;
      expect(logs).toMatchObject({ retentionInDays: Number(stageValue(stack, "logRetentionDays", 30)), kmsKeyId: expect.stringMatching(/^arn:aws:kms:/) });
      expect(logs.name).toMatch(new RegExp(`^/aws-glue/jobs/.+/${security.inputs.name}-role/.+/${stream}$`));
    }
  });

  it("uploads each script and the shared package under a key that carries its content hash, KMS-encrypted", () => {
    const scripts = ofType(plan(), T.object).filter((o) => o.name.includes("batch-script-"));
    expect(scripts.map((o) => o.inputs.key.split("/").pop()).sort()).toEqual(["batch_events.zip", "batch_file_job.py", "curation_job.py", "lake_replay.py"]);
    for (const script of scripts) {
      expect(script.inputs).toMatchObject({ serverSideEncryption: "aws:kms", kmsKeyId: expect.stringMatching(/^arn:aws:kms:/) });
      expect(script.inputs.key.split("/")[1]).toBe(script.inputs.metadata.sha256);
    }
  });

  it("gives the jobs a role trusted by Glue for this account only, with no wildcard S3 or managed policies", () => {
    const role = single(plan(), T.role, "batch-glue-role");
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0]).toMatchObject({
      Principal: { Service: "glue.amazonaws.com" },
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
    expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
    const statements = statementsOf(single(plan(), T.rolePolicy, "batch-glue-policy"));
    const s3 = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith("s3:")));
    expect(actionsOf(s3)).not.toContain("s3:*");
    for (const statement of s3) for (const resource of [statement.Resource].flat()) expect(resource).not.toMatch(/:::[^/]+\/\*$/);
    // Reads only the drop zone; writes only its own outputs.
    const reads = s3.filter((s) => actionsOf([s]).includes("s3:GetObject")).flatMap((s) => [s.Resource].flat());
    expect(reads.some((r: string) => r.endsWith("/batch/*"))).toBe(true);
  });

  it("keeps the clean dataset's catalog with a crawler of new folders only, and projects the curated dataset's partitions", () => {
    const crawler = single(plan(), T.crawler, "batch-clean-crawler").inputs;
    expect(crawler).toMatchObject({
      recrawlPolicy: { recrawlBehavior: "CRAWL_NEW_FOLDERS_ONLY" },
      schemaChangePolicy: { updateBehavior: "LOG", deleteBehavior: "LOG" },
      securityConfiguration: single(plan(), T.securityConfiguration, "batch-security").inputs.name,
    });
    expect(crawler.schedule).toBeUndefined();
    expect(crawler.s3Targets[0].path).toMatch(/\/batch\/clean\/$/);
    const table = single(plan(), T.table, "batch-curated-table").inputs;
    expect(table.parameters).toMatchObject({ "projection.enabled": "true", "projection.event_date.type": "date" });
    expect(table.storageDescriptor.location).toMatch(/\/batch\/events\/$/);
  });

  it("builds the pipeline from the typed definition: every task retried, caught and bounded in time", () => {
    const definition = definitionOf(plan());
    const tasks = Object.entries(definition.States as Record<string, any>).filter(([, state]) => state.Type === "Task");
    expect(tasks.length).toBeGreaterThanOrEqual(7);
    for (const [name, state] of tasks) {
      expect({ name, retry: (state.Retry ?? []).length > 0 }).toEqual({ name, retry: true });
      expect({ name, catch: (state.Catch ?? []).some((c: any) => c.ErrorEquals.includes("States.ALL")) }).toEqual({ name, catch: true });
      expect({ name, timeout: typeof state.TimeoutSeconds === "number" }).toEqual({ name, timeout: true });
    }
    const resources = stateOrder(definition).map((n) => definition.States[n].Resource).filter(Boolean);
    expect(resources.indexOf("arn:aws:states:::glue:startJobRun.sync")).toBeLessThan(resources.indexOf("arn:aws:states:::aws-sdk:glue:startCrawler"));
    expect(resources.filter((r: string) => r === "arn:aws:states:::glue:startJobRun.sync")).toHaveLength(2);
    expect(resources).toContain("arn:aws:states:::lambda:invoke");
    expect(resources).toContain("arn:aws:states:::sns:publish");
  });

  it("logs executions at the configured level to an encrypted log group, traces them, and encrypts state with the data key", () => {
    const machine = single(plan(), T.machine, "batch-pipeline-machine").inputs;
    const level = stageValue(stack, "batchWorkflowLogLevel", "ERROR");
    expect(machine.type).toBe("STANDARD");
    const logGroup = single(plan(), T.logGroup, "batch-pipeline-logs");
    expect(logGroup.inputs).toMatchObject({ name: expect.stringMatching(/^\/aws\/vendedlogs\/states\//), kmsKeyId: expect.stringMatching(/^arn:aws:kms:/) });
    expect(machine.loggingConfiguration).toEqual({ level, includeExecutionData: level === "ALL", logDestination: `${logGroup.state.arn}:*` });
    expect(machine.tracingConfiguration).toEqual({ enabled: true });
    expect(machine.encryptionConfiguration).toMatchObject({ type: "CUSTOMER_MANAGED_KMS_KEY", kmsKeyId: expect.stringMatching(/^arn:aws:kms:/) });
  });

  it("lets the execution role start only the two jobs and the crawler, invoke only the two functions and publish only to the two topics", () => {
    const statements = statementsOf(single(plan(), T.rolePolicy, "batch-pipeline-execution-policy"));
    const resourcesFor = (action: string) => statements.filter((s) => actionsOf([s]).includes(action)).flatMap((s) => [s.Resource].flat());
    expect(resourcesFor("glue:StartJobRun").sort()).toEqual([expect.stringMatching(/:job\/.+-batch-batch-file$/), expect.stringMatching(/:job\/.+-batch-curation$/)].sort());
    expect(resourcesFor("glue:StartCrawler")).toEqual([expect.stringMatching(/:crawler\/.+-batch-clean-crawler$/)]);
    expect(resourcesFor("lambda:InvokeFunction")).toHaveLength(2);
    expect(resourcesFor("sns:Publish")).toHaveLength(2);
    for (const resource of [...resourcesFor("glue:StartJobRun"), ...resourcesFor("lambda:InvokeFunction"), ...resourcesFor("sns:Publish")]) expect(resource).not.toBe("*");
  });

  it("starts the pipeline nightly from EventBridge Scheduler, encrypted, with retries and a dead-letter queue", () => {
    const schedule = single(plan(), T.schedule, "batch-pipeline-nightly").inputs;
    expect(schedule).toMatchObject({
      scheduleExpression: stageValue(stack, "batchSchedule", "cron(0 2 * * ? *)"),
      scheduleExpressionTimezone: stageValue(stack, "batchScheduleTimezone", "UTC"),
      state: "ENABLED",
      kmsKeyArn: expect.stringMatching(/^arn:aws:kms:/),
      target: {
        arn: single(plan(), T.machine, "batch-pipeline-machine").state.arn,
        input: "{}",
        retryPolicy: { maximumRetryAttempts: 3 },
        deadLetterConfig: { arn: expect.stringMatching(/^arn:aws:sqs:/) },
      },
    });
    const schedulerPolicy = statementsOf(single(plan(), T.rolePolicy, "batch-pipeline-scheduler-policy"));
    expect(schedulerPolicy.find((s) => s.Action === "states:StartExecution")?.Resource).toBe(single(plan(), T.machine, "batch-pipeline-machine").state.arn);
  });

  it("alarms on failed and timed-out executions where the stage has alarms", () => {
    const alarms = ofType(plan(), T.alarm).filter((a) => a.inputs.namespace === "AWS/States" && a.name.includes("batch-pipeline"));
    expect(alarms.map((a) => a.inputs.metricName).sort()).toEqual(stageValue(stack, "alarmsEnabled", "true") === "true" ? ["ExecutionsFailed", "ExecutionsTimedOut"] : []);
  });

  it("loads batch manifests only when the pipeline invokes the loader: the staged bucket's event rule leaves their prefix out", () => {
    const rule = ofType(plan(), T.rule).find((r) => r.name.endsWith("warehouse-loader-trigger"));
    const prefixes = JSON.parse(rule!.inputs.eventPattern).detail.object.key.map((k: { prefix: string }) => k.prefix);
    expect(prefixes).not.toContain(BATCH_MANIFEST_PREFIX);
    const loader = ofType(plan(), T.fn).find((f) => f.name.endsWith("warehouse-loader-fn"));
    const targets = JSON.parse(loader!.inputs.environment.variables.LOAD_TARGETS);
    expect(targets).toContainEqual(expect.objectContaining({ prefix: BATCH_MANIFEST_PREFIX, trigger: "workflow", manifest: true }));
  });

  it("keeps the aggregator to S3's own notifications: the pipeline's completion notices are filtered out", () => {
    const subscription = ofType(plan(), T.subscription).find((s) => s.name.endsWith("aggregator-subscription"));
    if (subscription === undefined) return expect(stageValue(stack, "servicesEnabled", "false")).toBe("false");
    expect(subscription.inputs).toMatchObject({ filterPolicyScope: "MessageAttributes" });
    expect(JSON.parse(subscription.inputs.filterPolicy)).toEqual({ kind: [{ exists: false }] });
  });

  it("appears in the plan's Batch section", () => {
    const lines = batchSummary(plan()).join("\n");
    expect(lines).toMatch(/Glue job .*batch-file: Glue 5\.0/);
    expect(lines).toMatch(/State machine .*batch-pipeline \(STANDARD\): cron/);
    expect(lines).toMatch(/OLTP → warehouse: /);
  });
});

describe("stage differences, through config only", () => {
  it("runs EMR Serverless where the stage enables it, in private subnets, with encrypted logs and auto-stop", () => {
    for (const stack of stacks) {
      const apps = ofType(plans[stack], T.emr);
      expect(apps).toHaveLength(stageValue(stack, "emrServerlessEnabled", "false") === "true" ? 1 : 0);
      for (const app of apps) {
        expect(app.inputs).toMatchObject({
          type: "spark",
          releaseLabel: stageValue(stack, "emrServerlessReleaseLabel", "emr-7.14.0"),
          autoStartConfiguration: { enabled: true },
          autoStopConfiguration: { enabled: true, idleTimeoutMinutes: Number(stageValue(stack, "emrServerlessIdleMinutes", 15)) },
          maximumCapacity: { cpu: `${stageValue(stack, "emrServerlessMaxVcpu", 64)} vCPU`, memory: `${stageValue(stack, "emrServerlessMaxMemoryGb", 256)} GB` },
          networkConfiguration: { subnetIds: expect.arrayContaining([expect.stringMatching(/^subnet-private-/)]) },
          monitoringConfiguration: {
            s3MonitoringConfiguration: { encryptionKeyArn: expect.stringMatching(/^arn:aws:kms:/) },
            cloudwatchLoggingConfiguration: { enabled: true, encryptionKeyArn: expect.stringMatching(/^arn:aws:kms:/) },
          },
        });
      }
    }
    expect(ofType(plans.dev, T.emr)).toHaveLength(0);
    expect(ofType(plans.prod, T.emr)).toHaveLength(1);
  });

  it("replays the lake on demand through its own state machine where EMR Serverless runs, with no schedule", () => {
    expect(ofType(plans.dev, T.machine).map((m) => m.inputs.name)).toEqual(["dp-dev-batch-pipeline"]);
    const replay = single(plans.prod, T.machine, "batch-replay-machine");
    const definition = JSON.parse(replay.inputs.definition);
    const run = Object.values(definition.States as Record<string, any>).find((state) => state.Resource === "arn:aws:states:::emr-serverless:startJobRun.sync");
    const app = single(plans.prod, T.emr);
    expect(run.Parameters).toMatchObject({ ApplicationId: app.id, ExecutionRoleArn: single(plans.prod, T.role, "batch-emr-job-role").state.arn });
    expect(JSON.stringify(run.Parameters.JobDriver)).toMatch(/scripts\/[0-9a-f]{16}\/lake_replay\.py/);
    expect(replay.inputs).toMatchObject({ loggingConfiguration: { level: "ERROR" }, tracingConfiguration: { enabled: true }, encryptionConfiguration: { type: "CUSTOMER_MANAGED_KMS_KEY" } });
    expect(ofType(plans.prod, T.schedule).map((s) => s.inputs.target.arn)).not.toContain(replay.state.arn);
    const statements = statementsOf(single(plans.prod, T.rolePolicy, "batch-replay-execution-policy"));
    expect(statements.find((s) => [s.Action].flat().includes("iam:PassRole"))).toMatchObject({ Condition: { StringEquals: { "iam:PassedToService": "emr-serverless.amazonaws.com" } } });
  });

  it("sizes dev smaller than prod and logs everything only in dev", () => {
    const job = (stack: string) => single(plans[stack], T.job, "batch-batch-file").inputs;
    expect(job("dev").numberOfWorkers).toBeLessThan(job("prod").numberOfWorkers);
    expect(single(plans.dev, T.machine, "batch-pipeline-machine").inputs.loggingConfiguration.level).toBe("ALL");
    expect(single(plans.prod, T.machine, "batch-pipeline-machine").inputs.loggingConfiguration.level).toBe("ERROR");
  });

  it("declares nothing of the batch layer when batchEnabled is false", async () => {
    const plan = await evaluate("dev", { batchEnabled: false });
    expect(plan.errors).toEqual([]);
    for (const type of [T.job, T.crawler, T.machine, T.schedule]) expect(ofType(plan, type)).toHaveLength(0);
  });
});

describe("the DR stack", () => {
  it("holds the batch jobs while passive, but no pipeline until dr:promote restores a warehouse with its loader", async () => {
    const dr = (await evaluateStage("prod", { evaluate: cachedEvaluateStack })).partner as StackEvaluation;
    expect(dr.errors).toEqual([]);
    expect(ofType(dr, T.job)).toHaveLength(2);
    expect(ofType(dr, T.emr)).toHaveLength(1);
    // Only the replay's machine, which needs no warehouse: the pipeline waits for a loader.
    expect(ofType(dr, T.machine).map((m) => m.inputs.name)).toEqual(["dp-prod-batch-replay"]);
    expect(ofType(dr, "aws:rds/integration:Integration")).toHaveLength(0);
  });
});
