/**
 * API Gateway HTTP APIs (the ingest sources' routes and the client API): every stage writes
 * access logs, and every stage throttles, by default and on each route it configures. An
 * HTTP API stage without throttling admits up to the account's regional quota (10,000
 * requests/s shared by every API of the account), so one noisy caller could starve the rest.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
 */
import * as aws from "@pulumi/aws";
import { validateResourceOfType } from "@pulumi/policy";
import { PlatformResourcePolicy } from "./lib/policy";
import { isSet } from "./lib/values";

interface Throttle {
  routeKey?: string;
  throttlingRateLimit?: number;
  throttlingBurstLimit?: number;
}

/** What is missing from one throttle setting ("" when both limits are set). */
export function throttleGap(settings: Throttle | undefined): string {
  const missing = [
    ...(isSet(settings?.throttlingRateLimit) ? [] : ["throttlingRateLimit"]),
    ...(isSet(settings?.throttlingBurstLimit) ? [] : ["throttlingBurstLimit"]),
  ];
  return missing.join(" and ");
}

export const apiGatewayAccessLogging: PlatformResourcePolicy = {
  name: "apigateway-stage-access-logging",
  description: "Every API Gateway v2 stage writes access logs (a destination log group and a format), so each request's caller, route, status and error can be traced.",
  enforcementLevel: "mandatory",
  remediationSteps: "Set accessLogSettings { destinationArn: <a KMS-encrypted log group's ARN>, format: <a JSON format with $context.requestId, $context.routeKey, $context.status> } on the aws.apigatewayv2.Stage.",
  validateResource: validateResourceOfType(aws.apigatewayv2.Stage, (stage, _args, report) => {
    const logs = stage.accessLogSettings;
    if (!logs) report(`Stage ${stage.name} has no accessLogSettings.`);
    else if (!isSet(logs.destinationArn) || !isSet(logs.format)) report(`Stage ${stage.name}'s accessLogSettings needs both destinationArn and format.`);
  }),
};

export const apiGatewayThrottling: PlatformResourcePolicy = {
  name: "apigateway-stage-throttling",
  description: "Every API Gateway v2 stage throttles: defaultRouteSettings sets a rate and a burst, and so does every routeSettings entry (a route's limits are stated where they apply, never left to how an entry without them merges with the default).",
  enforcementLevel: "mandatory",
  remediationSteps: "Set defaultRouteSettings { throttlingRateLimit, throttlingBurstLimit } on the stage, and both limits on each routeSettings entry (the ingest sources' rate and burst come from the ingestSources config).",
  validateResource: validateResourceOfType(aws.apigatewayv2.Stage, (stage, _args, report) => {
    const gap = throttleGap(stage.defaultRouteSettings as Throttle | undefined);
    if (gap) report(`Stage ${stage.name}'s defaultRouteSettings has no ${gap}.`);
    for (const route of (stage.routeSettings ?? []) as Throttle[]) {
      const routeGap = throttleGap(route);
      if (routeGap) report(`Stage ${stage.name}'s routeSettings for ${route.routeKey ?? "(no routeKey)"} has no ${routeGap}.`);
    }
  }),
};

export const apiGatewayPolicies = [apiGatewayAccessLogging, apiGatewayThrottling];
