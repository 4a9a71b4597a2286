/**
 * The ECS services as the real program declares them, under the mock engine: the images,
 * the task definitions (secrets only through `secrets`), the scaling bounds from each
 * stack's config, and the client API's path in (HTTP API → VPC link → internal ALB → tasks).
 */
import { StackEvaluation } from "../scripts/engine";
import { describeThrottle, servicesSummary } from "../scripts/plan-services";
import { CLIENT_API_ROUTES } from "../components/services/client-api-service";
import { evaluate, evaluateWithPartner, single, stageValue, statementsOf } from "./support/stack";

const T = {
  service: "aws:ecs/service:Service",
  task: "aws:ecs/taskDefinition:TaskDefinition",
  cluster: "aws:ecs/cluster:Cluster",
  repository: "aws:ecr/repository:Repository",
  image: "docker-build:index:Image",
  target: "aws:appautoscaling/target:Target",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  api: "aws:apigatewayv2/api:Api",
  integration: "aws:apigatewayv2/integration:Integration",
  route: "aws:apigatewayv2/route:Route",
  stage: "aws:apigatewayv2/stage:Stage",
  vpcLink: "aws:apigatewayv2/vpcLink:VpcLink",
  alb: "aws:lb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  queue: "aws:sqs/queue:Queue",
} as const;

interface Container {
  image: string;
  user: string;
  readonlyRootFilesystem: boolean;
  environment: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
  healthCheck?: { command: string[] };
}

const containersOf = (plan: StackEvaluation, service: string): Container[] =>
  JSON.parse(single(plan, T.task, `${service}-task`).inputs.containerDefinitions as string);

const stacks = ["dev", "prod"] as const;
const plans: Record<string, StackEvaluation> = {};

beforeAll(async () => {
  for (const stack of stacks) plans[stack] = await evaluate(stack);
}, 300_000);

describe.each(stacks)("services in %s", (stack) => {
  const plan = () => plans[stack];

  it("runs both services on Fargate in private subnets without public IPs, in a cluster with Container Insights", () => {
    const cluster = single(plan(), T.cluster, "services-cluster");
    expect(cluster.inputs.settings).toContainEqual({ name: "containerInsights", value: "enabled" });
    for (const name of ["aggregator", "client-api"]) {
      const service = single(plan(), T.service, `${name}-service`);
      expect(service.inputs.launchType).toBe("FARGATE");
      expect(service.inputs.networkConfiguration.assignPublicIp).toBe(false);
      expect(service.inputs.networkConfiguration.subnets.every((s: string) => s.includes("private"))).toBe(true);
      expect(service.inputs.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
    }
  });

  it("builds each image from its Dockerfile into a scan-on-push, immutable ECR repository, and runs it by digest", () => {
    for (const name of ["aggregator", "client-api"]) {
      const repository = single(plan(), T.repository, `${name}-repository`);
      expect(repository.inputs.imageScanningConfiguration).toEqual({ scanOnPush: true });
      expect(repository.inputs.imageTagMutability).toBe("IMMUTABLE");
      expect(repository.inputs.encryptionConfigurations[0].encryptionType).toBe("KMS");
      const image = single(plan(), T.image, `${name}-image`);
      expect(image.inputs.dockerfile.location).toMatch(new RegExp(`services/${name}/Dockerfile$`));
      expect(image.inputs.push).toBe(true);
      const [container] = containersOf(plan(), name);
      expect(container.image).toMatch(new RegExp(`/${repository.inputs.name}@sha256:[0-9a-f]{64}$`));
    }
  });

  it("keeps secrets out of the environment: the aggregator's database secret comes through `secrets`", () => {
    for (const name of ["aggregator", "client-api"]) {
      const [container] = containersOf(plan(), name);
      expect(container.user).toBe("1000:1000");
      expect(container.readonlyRootFilesystem).toBe(true);
      expect(container.logConfiguration.logDriver).toBe("awslogs");
      for (const variable of container.environment) {
        expect(variable.name).not.toMatch(/PASSWORD|SECRET$|TOKEN$/);
        expect(variable.value).not.toMatch(/password/i);
      }
    }
    const [aggregator] = containersOf(plan(), "aggregator");
    expect(aggregator.secrets?.map((s) => s.name)).toEqual(["DB_SECRET"]);
    expect(aggregator.secrets?.[0].valueFrom).toMatch(/^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:(rds!cluster-|.*oltp-master-credentials)/); // RDS-managed (dev) or the global primary's
    // The client API never holds the master secret: it connects as the read-only role with IAM auth.
    const [clientApi] = containersOf(plan(), "client-api");
    expect(clientApi.secrets ?? []).toEqual([]);
    expect(clientApi.environment).toContainEqual({ name: "DB_USER", value: "reporting_reader" });
    const connect = statementsOf(single(plan(), T.rolePolicy, "client-api-task-policy")).find((s) => s.Action === "rds-db:connect");
    expect(connect.Resource).toMatch(/:dbuser:cluster-[A-Z0-9]+\/reporting_reader$/);
  });

  it("scales each service between the stack's configured bounds", () => {
    const aggregator = single(plan(), T.target, "aggregator-scaling");
    expect(aggregator.inputs).toMatchObject({
      minCapacity: Number(stageValue(stack, "aggregatorMinTasks", 1)),
      maxCapacity: Number(stageValue(stack, "aggregatorMaxTasks", 4)),
      scalableDimension: "ecs:service:DesiredCount",
    });
    const backlog = single(plan(), T.scalingPolicy, "aggregator-backlog-tracking");
    const tracking = backlog.inputs.targetTrackingScalingPolicyConfiguration;
    expect(tracking.targetValue).toBe(Number(stageValue(stack, "aggregatorBacklogPerTask", 10)));
    expect(tracking.customizedMetricSpecification.metrics.find((m: { returnData: boolean }) => m.returnData).expression).toBe("visible / tasks");

    const clientApi = single(plan(), T.target, "client-api-scaling");
    expect(clientApi.inputs).toMatchObject({
      minCapacity: Number(stageValue(stack, "clientApiMinTasks", 2)),
      maxCapacity: Number(stageValue(stack, "clientApiMaxTasks", 6)),
    });
    const requests = single(plan(), T.scalingPolicy, "client-api-requests-tracking").inputs.targetTrackingScalingPolicyConfiguration;
    expect(requests.predefinedMetricSpecification.predefinedMetricType).toBe("ALBRequestCountPerTarget");
    expect(requests.targetValue).toBe(Number(stageValue(stack, "clientApiRequestsPerTarget", 1000)));
    const cpu = single(plan(), T.scalingPolicy, "client-api-cpu-tracking").inputs.targetTrackingScalingPolicyConfiguration;
    expect(cpu.predefinedMetricSpecification.predefinedMetricType).toBe("ECSServiceAverageCPUUtilization");
  });

  it("scales the aggregator from zero with a step policy only where the config allows zero", () => {
    const fromZero = plan().resources.filter((r) => r.type === T.scalingPolicy && r.name.endsWith("aggregator-scale-from-zero"));
    expect(fromZero.length).toBe(Number(stageValue(stack, "aggregatorMinTasks", 1)) === 0 ? 1 : 0);
  });

  it("feeds the aggregator from the lake's event topic through a raw-delivery queue with a DLQ", () => {
    const subscription = single(plan(), T.subscription, "aggregator-subscription");
    expect(subscription.inputs).toMatchObject({ protocol: "sqs", rawMessageDelivery: true });
    expect(subscription.inputs.topic).toMatch(/lake-events/);
    const queue = single(plan(), T.queue, "aggregator-queue");
    const dlq = single(plan(), T.queue, "aggregator-dlq");
    expect(JSON.parse(queue.inputs.redrivePolicy).deadLetterTargetArn).toBe(dlq.state.arn);
    expect(queue.inputs.kmsMasterKeyId).toBeDefined();
  });

  it("admits nothing inbound to the aggregator, and the client API tasks only from their ALB", () => {
    const ingress = plan().resources.filter((r) => r.type === T.ingress);
    expect(ingress.filter((r) => r.name.includes("into-aggregator"))).toEqual([]);
    const intoTasks = ingress.filter((r) => r.name.endsWith("alb-into-client-api-tasks"));
    expect(intoTasks).toHaveLength(1);
    expect(intoTasks[0].inputs.referencedSecurityGroupId).toBe(`${plan().resources.find((r) => r.name.endsWith("client-api-alb-sg"))!.name}-id`);
  });

  it("routes API Gateway through a VPC link to an internal ALB with health checks, deregistration delay and access logs", () => {
    const integration = single(plan(), T.integration, "client-api-integration");
    const listener = single(plan(), T.listener, "client-api-listener");
    const vpcLink = single(plan(), T.vpcLink, "client-api-vpc-link");
    expect(integration.inputs).toMatchObject({ integrationType: "HTTP_PROXY", connectionType: "VPC_LINK", connectionId: vpcLink.id, integrationUri: listener.state.arn });
    const alb = single(plan(), T.alb, "client-api-alb");
    expect(alb.inputs).toMatchObject({ internal: true, loadBalancerType: "application", dropInvalidHeaderFields: true });
    expect(alb.inputs.accessLogs.enabled).toBe(true);
    const targets = single(plan(), T.targetGroup, "client-api-targets");
    expect(targets.inputs.healthCheck.path).toBe("/livez");
    expect(targets.inputs.deregistrationDelay).toBeGreaterThan(0);
    expect(targets.inputs.deregistrationDelay).toBeLessThanOrEqual(60);
    const service = single(plan(), T.service, "client-api-service");
    expect(service.inputs.loadBalancers[0].targetGroupArn).toBe(targets.state.arn);
  });

  it("authorises at API Gateway as the stack configures, and throttles the stage", () => {
    const auth = stageValue(stack, "clientApiAuth", "AWS_IAM");
    const proxy = single(plan(), T.route, "client-api-proxy-route");
    expect(proxy.inputs.routeKey).toBe(CLIENT_API_ROUTES.proxy);
    expect(proxy.inputs.authorizationType).toBe(auth);
    const health = single(plan(), T.route, "client-api-health-route");
    expect(health.inputs.authorizationType).toBe("NONE");
    const stageResource = single(plan(), T.stage, "client-api-stage");
    expect(stageResource.inputs.defaultRouteSettings).toMatchObject({
      throttlingRateLimit: Number(stageValue(stack, "clientApiThrottleRate", 50)),
      throttlingBurstLimit: Number(stageValue(stack, "clientApiThrottleBurst", 100)),
    });
    expect(JSON.parse(stageResource.inputs.accessLogSettings.format)).toHaveProperty("routeKey", "$context.routeKey");
  });
});

describe("the plan's Services section", () => {
  it("shows the API path, both services with their scaling bounds, and the dashboard distribution", () => {
    const lines = servicesSummary(plans.prod).join("\n");
    expect(lines).toMatch(/HTTP API dp-prod-client-api-api: 2 routes, → VPC link dp-prod-client-api-vpc-link → internal ALB dp-prod-client-api-alb \(HTTPS :443\) → ECS service dp-prod-client-api/);
    expect(lines).toMatch(/ANY \/api\/\{proxy\+\}\s+JWT, 200\/s, burst 400/);
    expect(lines).toMatch(/ECS service dp-prod-aggregator: 1–10 tasks of 1024 CPU \/ 2048 MiB ARM64 on FARGATE, scaling on Messages per running task at 10/);
    expect(lines).toMatch(/ECS service dp-prod-client-api: 3–12 tasks .*ALBRequestCountPerTarget at 1000/);
    expect(lines).toMatch(/CloudFront dp-prod-dashboard-cdn: \* → site-bucket \(redirect-to-https\), \/api\/\* → client-api \(https-only\)/);
  });

  it("reads a route's throttle from its own settings before the stage default", () => {
    expect(describeThrottle({ throttlingRateLimit: 5, throttlingBurstLimit: 10 }, { throttlingRateLimit: 50, throttlingBurstLimit: 100 })).toBe("5/s, burst 10");
    expect(describeThrottle(undefined, { throttlingRateLimit: 50, throttlingBurstLimit: 100 })).toBe("50/s, burst 100");
    expect(describeThrottle(undefined, undefined)).toBe("account limit");
  });
});

describe("services in the passive DR stack", () => {
  it("declares both services, runs no aggregator until promotion, and keeps the client API ready", async () => {
    const primary = plans.prod;
    const standby = await evaluateWithPartner("prod-dr", primary.outputs);
    expect(single(standby, T.target, "aggregator-scaling").inputs).toMatchObject({ minCapacity: 0, maxCapacity: 0 });
    expect(single(standby, T.target, "client-api-scaling").inputs.minCapacity).toBe(Number(stageValue("prod-dr", "clientApiMinTasks", 2)));
  }, 300_000);
});
