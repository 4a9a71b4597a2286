/**
 * `npm run plan -- --stack prod --cost [--compare dev]`: the monthly cost estimate of the
 * evaluated stack (and, for a stage with DR, of its partner and the stage), printed per
 * component with every line's quantity × unit price, then the assumptions and what is not
 * priced. The estimator itself is policies/cost/ (it also runs inside the policy pack).
 */
import { ASSUMPTIONS, StackAssumptions } from "../policies/cost/assumptions";
import { CostDelta, CostEstimate, CostLine, CostResource, costDelta, estimateCost } from "../policies/cost/estimate";
import { PRICE_TABLE } from "../policies/cost/price-table";
import { StackEvaluation } from "./engine";
import { PlanDocument } from "./plan-diff";


export function assumptionsFor(stack: string): StackAssumptions {
  const assumptions = ASSUMPTIONS[stack];
  if (!assumptions) throw new Error(`No cost assumptions for stack "${stack}": add an entry to policies/cost/assumptions.ts (stacks with one: ${Object.keys(ASSUMPTIONS).join(", ")}).`);
  return assumptions;
}

/** The estimate of a plan JSON (or an evaluation, which has the same fields). */
export function estimatePlan(plan: PlanDocument | StackEvaluation): CostEstimate {
  return estimateCost(plan.resources, { stack: plan.stack, assumptions: assumptionsFor(plan.stack) });
}

/** The cost delta between two plan JSONs, e.g. the base branch's out/plan-prod.json and this one. */
export function planCostDelta(base: PlanDocument, head: PlanDocument): CostDelta {
  return costDelta(estimatePlan(base), estimatePlan(head));
}

export const usd = (amount: number): string => `${amount < 0 ? "-" : ""}$${Math.abs(amount).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const quantity = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: 3 });
const unitPrice = (n: number): string => `$${n.toLocaleString("en-US", { maximumFractionDigits: 10 })}`;

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** A component's alarms as one line per kind and region ("12 alarms"), so the resources that cost more stay readable. */
export function mergeAlarms(lines: readonly CostLine[]): CostLine[] {
  const merged = new Map<string, CostLine & { count: number }>();
  for (const line of lines.filter((l) => l.type === ALARM)) {
    const key = `${line.item}|${line.region}|${line.unitPriceUsd}`;
    const seen = merged.get(key);
    merged.set(key, seen ? { ...seen, count: seen.count + 1, quantity: seen.quantity + line.quantity, monthlyUsd: seen.monthlyUsd + line.monthlyUsd } : { ...line, count: 1 });
  }
  const alarms = [...merged.values()].map(({ count, ...line }) => ({ ...line, resource: `${count} alarm(s)`, basis: "metrics the alarms read" }));
  return [...lines.filter((l) => l.type !== ALARM), ...alarms];
}

/** The estimate per component, each line as quantity × unit price = monthly. */
export function renderEstimate(estimate: CostEstimate): string[] {
  const out: string[] = [];
  for (const component of estimate.components) {
    out.push(`  ${component.component}: ${usd(component.monthlyUsd)}`);
    for (const line of mergeAlarms(estimate.lines.filter((l) => l.component === component.component && l.quantity !== 0))) {
      out.push(
        `    ${line.resource}  ${line.item}: ${quantity(line.quantity)} ${line.unit} × ${unitPrice(line.unitPriceUsd)} = ${usd(line.monthlyUsd)}  [${line.region}, ${line.confidence}]  (${line.basis})`,
      );
    }
  }
  out.push(`  Total ${estimate.stack}: ${usd(estimate.totalUsd)} a month`);
  return out;
}

/** A change's cost, for `--diff BASE`: the total's move, then each component that moved. */
export function renderCostDelta(delta: CostDelta): string[] {
  const signed = (n: number) => (n > 0 ? `+${usd(n)}` : usd(n));
  return [
    `  Monthly cost: ${usd(delta.baseUsd)} → ${usd(delta.headUsd)} (${signed(delta.deltaUsd)})`,
    ...delta.components.map((c) => `    ${c.component}: ${usd(c.baseUsd)} → ${usd(c.headUsd)} (${signed(c.deltaUsd)})`),
  ];
}

/** Not priced, grouped by reason, with how many resources of this stack it concerns. */
export function renderUnpriced(estimates: readonly CostEstimate[]): string[] {
  const byReason = new Map<string, Set<string>>();
  for (const item of estimates.flatMap((e) => e.unpriced)) byReason.set(`${item.type.split(":").pop()}: ${item.reason}`, (byReason.get(`${item.type.split(":").pop()}: ${item.reason}`) ?? new Set()).add(item.resource));
  return [
    ...[...byReason.entries()].map(([reason, resources]) => `  ${reason} (${resources.size})`),
    "  data transfer (cross-AZ, cross-region replication, internet), request charges (S3, KMS, Secrets Manager), free tiers, taxes",
    "  CloudTrail, AWS Config and GuardDuty: not declared by the stacks yet (a price-table entry and a pricer in policies/cost/estimate.ts each)",
  ];
}

export function renderAssumptions(stack: string): string[] {
  const a = assumptionsFor(stack);
  const groups = ["streams", "firehoses", "functions", "tables", "buckets", "databases", "warehouses", "glueJobs", "crawlers", "sparkApplications", "stateMachines", "schedules"] as const;
  return [
    `  ${stack}: ${a.summary}`,
    `    natGatewayGbPerMonth ${a.natGatewayGbPerMonth}, interfaceEndpointGbPerMonth ${a.interfaceEndpointGbPerMonth}`,
    ...groups.map((group) => `    ${group}: ${JSON.stringify(a[group])}`),
  ];
}

/** The budget the stage's estimate is held against: the one Budget of the stacks, as `limitAmount` declares it. */
export function budgetLine(estimates: readonly CostEstimate[]): string | undefined {
  const budget = estimates.flatMap((e) => e.budgets)[0];
  if (!budget) return undefined;
  const total = estimates.reduce((sum, e) => sum + e.totalUsd, 0);
  const stacks = estimates.map((e) => e.stack).join(" + ");
  const verdict = total > budget.limitUsd ? `EXCEEDS it by ${usd(total - budget.limitUsd)}` : `within it (${Math.round((total / budget.limitUsd) * 100)}%)`;
  return `  ${stacks}: ${usd(total)} against the budget ${usd(budget.limitUsd)} (limitAmount of ${budget.name}): ${verdict}`;
}

/** Components side by side, one column per estimate (e.g. dev and prod). */
export function renderComparison(estimates: readonly CostEstimate[]): string[] {
  const names = [...new Set(estimates.flatMap((e) => e.components.map((c) => c.component.split(" ")[0])))];
  const cell = (e: CostEstimate, kind: string) => usd(e.components.filter((c) => c.component.split(" ")[0] === kind).reduce((s, c) => s + c.monthlyUsd, 0));
  const rows = [["component", ...estimates.map((e) => e.stack)], ...names.map((kind) => [kind, ...estimates.map((e) => cell(e, kind))]), ["Total", ...estimates.map((e) => usd(e.totalUsd))]];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => `  ${row.map((value, i) => (i === 0 ? value.padEnd(widths[i]) : value.padStart(widths[i]))).join("  ")}`);
}

/**
 * The whole `--cost` section for a stack (and its DR partner, which the estimate prices as
 * the stage's other half), optionally with other stages side by side.
 */
export function costSection(evaluation: StackEvaluation, partner: StackEvaluation | undefined, compared: readonly StackEvaluation[] = []): string {
  const own = estimatePlan(evaluation);
  const partnerEstimate = partner ? estimatePlan(partner) : undefined;
  const stage = partnerEstimate ? [own, partnerEstimate] : [own];
  const lines = [
    `Monthly cost estimate (on-demand list prices in ${PRICE_TABLE.currency} retrieved ${PRICE_TABLE.retrieved}, ${PRICE_TABLE.hoursPerMonth} h a month; prices and sources: policies/cost/price-table.ts):`,
    ...renderEstimate(own),
  ];
  if (partnerEstimate) lines.push("", `The DR side, ${partnerEstimate.stack}:`, ...renderEstimate(partnerEstimate));
  const budget = budgetLine(stage);
  if (budget) lines.push("", "Budget:", budget);
  const columns = [...compared.map(estimatePlan), ...stage];
  if (compared.length > 0) lines.push("", "Side by side (per component kind):", ...renderComparison(columns));
  lines.push("", "Assumptions (policies/cost/assumptions.ts):", ...columns.flatMap((e) => renderAssumptions(e.stack)));
  lines.push("", "Not priced:", ...renderUnpriced(columns));
  return lines.join("\n");
}
