/**
 * The monthly estimate against the stage's budget: the Alerting component declares an
 * aws.budgets.Budget whose limitAmount is the stage's monthlyBudgetUsd, and this stack
 * policy prices the stack's resources (policies/cost/) and warns when the estimate is above
 * it. Advisory: the estimate rests on list prices and stated assumptions, not on a bill.
 *
 * It sees only this stack. A stage with DR shares one budget (scoped by the Stage tag)
 * between its primary and DR stacks; `npm run plan -- --stack prod --cost` prints the whole
 * stage against it.
 */
import { PolicyResource } from "@pulumi/policy";
import { ASSUMPTIONS } from "./cost/assumptions";
import { CostResource, estimateCost } from "./cost/estimate";
import { regionOf } from "./governance";
import { PlatformStackPolicy } from "./lib/policy";
import { UNKNOWN, peek, stackOfUrn } from "./lib/values";

/** A plain copy of proxied props: values unknown during preview are left out. */
export function knownValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item, i) => peek(() => value[i])).filter((item) => item !== UNKNOWN).map(knownValues);
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = peek(() => (value as Record<string, unknown>)[key]);
    if (item !== UNKNOWN) copy[key] = knownValues(item);
  }
  return copy;
}

/** A stack policy's resource as the estimator reads it. */
export function costResourceOf(resource: PolicyResource): CostResource {
  const region = regionOf(resource);
  return {
    urn: resource.urn,
    type: resource.type,
    name: resource.name,
    ...(resource.parent ? { parent: resource.parent.urn } : {}),
    ...(region ? { region } : {}),
    inputs: knownValues(resource.props) as Record<string, unknown>,
  };
}

interface BudgetConfig {
  /** The assumption set (policies/cost/assumptions.ts) to price with; defaults to the stack's name. */
  assumptions?: string;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

export const monthlyCostWithinBudget: PlatformStackPolicy = {
  name: "monthly-cost-within-budget",
  description: "The stack's estimated monthly cost (on-demand list prices and the stated assumptions in policies/cost/) stays within the budget its aws.budgets.Budget declares (limitAmount, from monthlyBudgetUsd).",
  enforcementLevel: "advisory",
  remediationSteps:
    "Read the estimate with `npm run plan -- --stack <stack> --cost`, then shrink what dominates it (node types and counts, instances that could pause) or raise monthlyBudgetUsd in Pulumi.<stack>.yaml; if the traffic figures are wrong, correct them in policies/cost/assumptions.ts.",
  configSchema: {
    properties: {
      assumptions: { type: "string", description: "The assumption set in policies/cost/assumptions.ts to price with; defaults to the stack's name." },
    },
  },
  validateStack: (args, report) => {
    const resources = args.resources.map(costResourceOf);
    const budgets = resources.filter((r) => r.type === "aws:budgets/budget:Budget");
    if (budgets.length === 0) return args.notApplicable("The stack declares no budget");
    const stack = args.getConfig<BudgetConfig>().assumptions ?? stackOfUrn(budgets[0].urn) ?? "";
    const assumptions = ASSUMPTIONS[stack];
    if (!assumptions) return args.notApplicable(`No cost assumptions for stack "${stack}" in policies/cost/assumptions.ts`);
    const estimate = estimateCost(resources, { stack, assumptions });
    for (const budget of estimate.budgets) {
      if (estimate.totalUsd > budget.limitUsd) {
        const top = [...estimate.components].sort((a, b) => b.monthlyUsd - a.monthlyUsd)[0];
        report(
          `Estimated ${usd(estimate.totalUsd)} a month (prices of ${estimate.pricesRetrieved}, assumptions "${stack}") exceeds the budget ${usd(budget.limitUsd)} by ${usd(estimate.totalUsd - budget.limitUsd)}; the largest part is ${top.component} at ${usd(top.monthlyUsd)}.`,
          budget.urn,
        );
      }
    }
  },
};
