/**
 * The plan's "Services" section: what callers reach and what runs behind it, read from the
 * planned graph (not from config, so it shows what `pulumi up` would create):
 *   - each HTTP API with its routes, their authorisation and throttles, and, for a VPC link
 *     integration, the path through the internal load balancer to the ECS service;
 *   - each ECS service with its task size and scaling bounds and the metrics it scales on;
 *   - each CloudFront distribution with its origins and behaviours.
 */
import { PlannedResource, StackEvaluation, ofType } from "./engine";

const T = {
  api: "aws:apigatewayv2/api:Api",
  route: "aws:apigatewayv2/route:Route",
  stage: "aws:apigatewayv2/stage:Stage",
  integration: "aws:apigatewayv2/integration:Integration",
  vpcLink: "aws:apigatewayv2/vpcLink:VpcLink",
  listener: "aws:lb/listener:Listener",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  service: "aws:ecs/service:Service",
  task: "aws:ecs/taskDefinition:TaskDefinition",
  scalingTarget: "aws:appautoscaling/target:Target",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  distribution: "aws:cloudfront/distribution:Distribution",
} as const;

interface Throttle {
  routeKey?: string;
  throttlingRateLimit?: number;
  throttlingBurstLimit?: number;
}

/** "100/s, burst 200", or "account limit" when nothing throttles the route. */
export function describeThrottle(route: Throttle | undefined, stageDefault: Throttle | undefined): string {
  const rate = route?.throttlingRateLimit ?? stageDefault?.throttlingRateLimit;
  const burst = route?.throttlingBurstLimit ?? stageDefault?.throttlingBurstLimit;
  return rate === undefined ? "account limit" : `${rate}/s, burst ${burst ?? "?"}`;
}

const byState = (resources: PlannedResource[], field: string, value: unknown) => resources.find((r) => value !== undefined && r.state[field] === value);
const integrationIdOf = (route: PlannedResource) => String(route.inputs.target ?? "").replace(/^integrations\//, "");

/** API → VPC link → load balancer → ECS service, for an integration that goes through a VPC link. */
function privatePath(plan: StackEvaluation, integration: PlannedResource): string | undefined {
  if (integration.inputs.connectionType !== "VPC_LINK") return undefined;
  const link = ofType(plan, T.vpcLink).find((l) => l.id === integration.inputs.connectionId);
  const listener = byState(ofType(plan, T.listener), "arn", integration.inputs.integrationUri);
  const balancer = listener && byState(ofType(plan, T.loadBalancer), "arn", listener.inputs.loadBalancerArn);
  const targetGroups = new Set((listener?.inputs.defaultActions ?? []).map((a: { targetGroupArn?: string }) => a.targetGroupArn));
  const services = ofType(plan, T.service).filter((s) => (s.inputs.loadBalancers ?? []).some((lb: { targetGroupArn?: string }) => targetGroups.has(lb.targetGroupArn)));
  const hops = [
    `VPC link ${link?.name ?? "?"}`,
    balancer ? `${balancer.inputs.internal ? "internal" : "internet-facing"} ALB ${balancer.name} (${listener?.inputs.protocol} :${listener?.inputs.port})` : "?",
    ...services.map((s) => `ECS service ${s.inputs.name ?? s.name}`),
  ];
  return hops.join(" → ");
}

export function httpApiLines(plan: StackEvaluation): string[] {
  const lines: string[] = [];
  for (const api of ofType(plan, T.api)) {
    const routes = ofType(plan, T.route).filter((r) => r.inputs.apiId === api.id);
    const stage = ofType(plan, T.stage).find((s) => s.inputs.apiId === api.id);
    const integrations = ofType(plan, T.integration).filter((i) => i.inputs.apiId === api.id);
    const paths = [...new Set(integrations.map((i) => privatePath(plan, i)).filter((p): p is string => p !== undefined))];
    lines.push(`  HTTP API ${api.name}: ${routes.length} route${routes.length === 1 ? "" : "s"}${paths.length > 0 ? `, → ${paths.join("; ")}` : ""}`);
    const width = Math.max(0, ...routes.map((r) => String(r.inputs.routeKey).length));
    for (const route of routes) {
      const key = String(route.inputs.routeKey);
      const settings = (stage?.inputs.routeSettings ?? []).find((s: Throttle) => s.routeKey === key);
      const integration = integrations.find((i) => i.id === integrationIdOf(route));
      const target = integration ? String(integration.inputs.integrationSubtype ?? integration.inputs.integrationType) : "?";
      const scopes = (route.inputs.authorizationScopes ?? []).join(" ");
      lines.push(`    ${key.padEnd(width)}  ${route.inputs.authorizationType ?? "NONE"}${scopes ? ` (${scopes})` : ""}, ${describeThrottle(settings, stage?.inputs.defaultRouteSettings)}, → ${target}`);
    }
  }
  return lines;
}

/** "target 1000 ALBRequestCountPerTarget" or "target 10 of visible / tasks". */
function scalingMetric(policy: PlannedResource): string {
  const tracking = policy.inputs.targetTrackingScalingPolicyConfiguration;
  if (tracking) {
    const predefined = tracking.predefinedMetricSpecification?.predefinedMetricType;
    const custom = (tracking.customizedMetricSpecification?.metrics ?? []).find((m: { returnData?: boolean }) => m.returnData);
    return `${predefined ?? custom?.label ?? custom?.expression ?? "custom metric"} at ${tracking.targetValue}`;
  }
  return `step policy ${policy.name.replace(/^.*-(scale-[a-z-]+)$/, "$1")}`;
}

export function ecsServiceLines(plan: StackEvaluation): string[] {
  return ofType(plan, T.service).map((service) => {
    const task = byState(ofType(plan, T.task), "arn", service.inputs.taskDefinition);
    const clusterName = String(service.inputs.cluster ?? "").split("/").pop();
    const resourceId = `service/${clusterName}/${service.inputs.name}`;
    const target = ofType(plan, T.scalingTarget).find((t) => t.inputs.resourceId === resourceId);
    const policies = ofType(plan, T.scalingPolicy).filter((p) => p.inputs.resourceId === resourceId);
    const size = task ? `${task.inputs.cpu} CPU / ${task.inputs.memory} MiB ${task.inputs.runtimePlatform?.cpuArchitecture ?? ""}`.trim() : "?";
    const bounds = target ? `${target.inputs.minCapacity}–${target.inputs.maxCapacity} tasks` : `${service.inputs.desiredCount} tasks (no auto-scaling)`;
    const metrics = policies.length > 0 ? `, scaling on ${policies.map(scalingMetric).join("; ")}` : "";
    return `  ECS service ${service.inputs.name}: ${bounds} of ${size} on ${service.inputs.launchType}${metrics}`;
  });
}

export function distributionLines(plan: StackEvaluation): string[] {
  return ofType(plan, T.distribution).map((d) => {
    const origins = (d.inputs.origins ?? []).map((o: { originId: string; domainName: string; originAccessControlId?: string }) =>
      `${o.originId} (${o.domainName}${o.originAccessControlId ? ", OAC" : ""})`);
    const behaviours = [d.inputs.defaultCacheBehavior, ...(d.inputs.orderedCacheBehaviors ?? [])]
      .filter(Boolean)
      .map((b: { pathPattern?: string; targetOriginId: string; viewerProtocolPolicy: string }) => `${b.pathPattern ?? "*"} → ${b.targetOriginId} (${b.viewerProtocolPolicy})`);
    return `  CloudFront ${d.name}: ${behaviours.join(", ")}; origins ${origins.join(", ")}; ${d.inputs.priceClass}`;
  });
}

/** The whole section's lines (empty when the stack declares no API, service or distribution). */
export function servicesSummary(plan: StackEvaluation): string[] {
  return [...httpApiLines(plan), ...ecsServiceLines(plan), ...distributionLines(plan)];
}
