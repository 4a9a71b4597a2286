/**
 * Shared setup for the dr:promote tests: the fixture stacks (prod / prod-dr) with their
 * config, a healthy observed state built by hand for the pure planner, and a runner that
 * calls the promote command against a started simulation with temp stack files.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PromotionMode, PromotionStack, PromotionStacks } from "../../dr/model";
import { PromoteOptions, PromoteResult, promote } from "../../dr/promote";
import { DR_REGION, PRIMARY_REGION, fixtureConfig, fixtureStackFile, fixtureTopologies } from "../../dr/simulation/fixtures";
import { Simulation, startSimulation } from "../../dr/simulation/harness";
import { ObservedState } from "../../dr/state";
import { buildSteps } from "../../dr/steps";
import { StackTopology } from "../../dr/topology";

type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };

export interface FixtureOverrides {
  readonly prodConfig?: Record<string, string>;
  readonly drConfig?: Record<string, string>;
  readonly topology?: (topologies: { prod: Mutable<StackTopology>; "prod-dr": Mutable<StackTopology> }) => void;
}

/** The stacks of a promotion toward `target` ("prod-dr" fails over, "prod" fails back). */
export function fixtureStacks(target: "prod" | "prod-dr" = "prod-dr", overrides: FixtureOverrides = {}): PromotionStacks {
  const topologies = fixtureTopologies() as { prod: Mutable<StackTopology>; "prod-dr": Mutable<StackTopology> };
  overrides.topology?.(topologies);
  const prod: PromotionStack = { name: "prod", config: fixtureConfig("prod", overrides.prodConfig), topology: topologies.prod };
  const dr: PromotionStack = { name: "prod-dr", config: fixtureConfig("prod-dr", overrides.drConfig), topology: topologies["prod-dr"] };
  return target === "prod-dr" ? { target: dr, source: prod } : { target: prod, source: dr };
}

/** What the observers would report for the fixture stage deployed and healthy, prod active. */
export function healthyState(stacks: PromotionStacks, mode: PromotionMode): Mutable<ObservedState> {
  const prod = stacks.target.name === "prod" ? stacks.target.topology : stacks.source.topology;
  const T = stacks.target.topology;
  const S = stacks.source.topology;
  const planned = mode === "planned";
  const regions = planned ? [T.region, S.region] : [T.region];
  const sides = planned ? [T, S] : [T];
  const at = "2026-12-01T09:59:00.000Z";
  return {
    observedAt: "2026-12-01T10:00:00.000Z",
    mode,
    regionsObserved: regions,
    caller: { arn: "arn:aws:sts::123456789012:assumed-role/dr-operator/promotion", account: "123456789012" },
    aurora: {
      globalClusterIdentifier: T.aurora!.globalClusterIdentifier,
      engineVersion: "16.6",
      status: "available",
      members: [T, S].map((side) => ({
        clusterArn: side.aurora!.clusterArn,
        region: side.region,
        isWriter: side === prod,
        ...(regions.includes(side.region) ? { engineVersion: "16.6", status: "available" } : {}),
        ...(side === T ? { instances: side.aurora!.instanceIdentifiers.map((identifier) => ({ identifier, status: "available" })) } : {}),
      })),
    },
    lags: [
      { store: "aurora", resource: T.aurora!.clusterIdentifier, metric: "AuroraGlobalDBRPOLag", region: T.region, seconds: 0.85, at },
      ...(planned
        ? [
            ...S.lakeReplication.map((rule) => ({ store: "s3" as const, resource: `${rule.sourceBucket}→${rule.destinationBucket} (${rule.ruleId})`, metric: "ReplicationLatency", region: S.region, seconds: 42, pendingOperations: 12, at })),
            { store: "dynamodb" as const, resource: `${S.speedLayerTable.name} → ${T.region}`, metric: "ReplicationLatency", region: S.region, seconds: 0.74, at },
          ]
        : []),
    ],
    mappings: sides.flatMap((side) => side.consumers.map((consumer) => ({ region: side.region, consumer: consumer.name, functionName: consumer.functionName, uuid: consumer.eventSourceMappingUuid, state: side === prod ? "Enabled" : "Disabled" }))),
    parameters: sides.flatMap((side) => side.endpointParameters.map((parameter) => ({ region: side.region, name: parameter.name, value: prod.endpointParameters.find((p) => p.name === parameter.name)!.valueWhenActive }))),
    warehouse: { region: T.region, snapshots: [1, 2].map((hours) => ({ identifier: `copy:rs:dp-prod-warehouse-${hours}`, clusterIdentifier: "dp-prod-warehouse", createdAt: `2026-12-01T0${9 - hours}:30:00.000Z`, status: "available", snapshotType: "automated", sourceRegion: S.region })) },
    // Every action the plan takes, allowed.
    permissions: buildSteps({ stacks, mode, warehouseSnapshot: "", runId: "run-1" }).flatMap((step) =>
      step.permissions.map((permission) => ({ ...permission, resource: permission.resource.replace("{account}", "123456789012"), region: step.region, allowed: true, decision: "allowed" })),
    ),
    errors: [],
  };
}

export function tempDirectory(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A project directory with Pulumi.yaml and the fixture stack files, as --config-dir expects. */
export function fixtureConfigDirectory(): string {
  const directory = tempDirectory("dr-config-");
  fs.copyFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), path.join(directory, "Pulumi.yaml"));
  for (const stack of ["prod", "prod-dr"] as const) fs.writeFileSync(path.join(directory, `Pulumi.${stack}.yaml`), fixtureStackFile(stack));
  return directory;
}

export interface SimulatedStage {
  sim: Simulation;
  configDir: string;
  outDir: string;
  dirs(): { configDir: string; outDir: string };
}

/** A fresh simulated stage for every test: the simulation, fixture stack files and an output directory. */
export function useSimulatedStage(): SimulatedStage {
  const stage = { dirs: () => ({ configDir: stage.configDir, outDir: stage.outDir }) } as SimulatedStage;
  beforeEach(async () => {
    stage.sim = await startSimulation();
    stage.configDir = fixtureConfigDirectory();
    stage.outDir = tempDirectory("dr-out-");
  });
  afterEach(async () => {
    await stage.sim.stop();
  });
  return stage;
}

export interface SimulatedRun {
  readonly result: PromoteResult;
  readonly output: string;
}

/** Runs dr:promote against the simulation, with a fresh client pool (as a new process would have). */
export async function promoteSimulated(sim: Simulation, options: Partial<PromoteOptions> & Pick<PromoteOptions, "configDir" | "outDir">, confirm = async () => true): Promise<SimulatedRun> {
  let output = "";
  const clients = sim.newClientPool();
  const result = await promote(
    { stack: "prod-dr", mode: "planned", dryRun: false, yes: true, resume: false, force: false, writeConfig: false, ...options },
    { topologies: sim.topologies, clients, journalClient: sim.journalClient, clock: sim.clock, httpCheck: sim.httpCheck, confirm, log: (text) => (output += text), renderer: "silent", poll: { initialDelayMs: 1000, maxDelayMs: 5000 } },
  );
  clients.destroy();
  return { result, output };
}

/** Mutating calls as "region service:Command key", the key naming what was changed. */
export function mutationsOf(sim: Simulation): string[] {
  return sim.aws.mutatingCalls().map((call) => {
    const input = call.input as Record<string, unknown>;
    const key = input.UUID ?? input.Name ?? input.Bucket ?? input.ClusterIdentifier ?? input.TargetDbClusterIdentifier ?? input.TargetDBClusterSnapshotIdentifier ?? "";
    return `${call.region} ${call.service}:${call.command} ${String(key)}`;
  });
}

export { DR_REGION, PRIMARY_REGION };
