/**
 * `npm run dr:promote -- --stack prod-dr --mode planned|unplanned [--dry-run] [--yes]
 * [--resume [run-id]] [--force] [--write-config] [--topology-file f] [--simulate]`: the
 * cross-region promotion. This file parses flags and wires either real AWS (SDK v3
 * clients with throwing timeouts, topologies from `pulumi stack output`) or the
 * simulated two-region AWS (--simulate); dr/promote.ts does the work.
 */
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { StageConfigError } from "../config";
import { PromoteArgs, USAGE, parsePromoteArgs } from "../dr/cli-args";
import { ClientPool, createJournalClient } from "../dr/clients";
import { PromoteDependencies, promote, releaseLock } from "../dr/promote";
import { signedStatusCheck } from "../dr/signed-get";
import { systemClock } from "../dr/poll";
import { Simulation, startSimulation } from "../dr/simulation/harness";
import { SimState, initialWorld } from "../dr/simulation/world";
import { StackTopology, TOPOLOGY_OUTPUT } from "../dr/topology";
import { PulumiTopologySource, parseTopology, topologySourceFromFile } from "../dr/topology-source";
import { PROJECT_DIR, readStackConfig } from "./engine";
import { evaluateStage } from "./stage-evaluation";

function ask(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return Promise.resolve(false);
  const prompt = readline.createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((resolve) => prompt.question(question, (answer) => {
    prompt.close();
    resolve(/^y(es)?$/i.test(answer.trim()));
  }));
}

const log = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);

/**
 * Both stacks' drTopology as the offline engine evaluates them from the stack files in
 * `configDir`: the simulation acts on exactly what `pulumi up` would declare, and after a
 * promotion with --write-config it sees the stacks as their new config declares them.
 */
async function offlineTopologies(configDir: string): Promise<{ primary: StackTopology; dr: StackTopology }> {
  log("Simulation: evaluating prod and prod-dr offline (the mock engine, as `npm run plan` does)...");
  const { evaluation, partner } = await evaluateStage("prod", { config: readStackConfig("prod", configDir), partnerConfig: readStackConfig("prod-dr", configDir) });
  if (partner === undefined) throw new Error("The simulation needs the DR stack prod-dr beside prod");
  const topology = (outputs: Record<string, unknown>, stack: string) => parseTopology(outputs[TOPOLOGY_OUTPUT], `the offline plan of ${stack}`);
  return { primary: topology(evaluation.outputs, "prod"), dr: topology(partner.outputs, "prod-dr") };
}

/** The simulation keeps its AWS state and copies of the stack files under out/dr/simulation/, so runs follow one another. */
async function simulated(args: PromoteArgs, outDir: string): Promise<{ simulation: Simulation; configDir: string; save: () => void }> {
  const directory = path.join(outDir, "dr", "simulation");
  const stateFile = path.join(directory, "aws-state.json");
  fs.mkdirSync(directory, { recursive: true });
  if (args.simulateReset) {
    for (const name of fs.readdirSync(directory)) fs.rmSync(path.join(directory, name), { recursive: true, force: true });
  }
  const project = path.join(directory, "Pulumi.yaml");
  if (!fs.existsSync(project)) fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), project);
  for (const stack of ["prod", "prod-dr"] as const) {
    const file = path.join(directory, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) fs.copyFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), file);
  }
  const topologies = await offlineTopologies(args.configDir ?? directory);
  const now = new Date();
  const state: SimState = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, "utf8")) : initialWorld(topologies.primary, topologies.dr, now);
  const simulation = await startSimulation({ state, now, topologies });
  for (const region of args.simulateDown) simulation.aws.setRegionDown(region, true);
  for (const region of args.simulateUp) simulation.aws.setRegionDown(region, false);
  if (simulation.aws.state.down.length) log(`Simulation: ${simulation.aws.state.down.join(", ")} down (calls there time out).`);
  return { simulation, configDir: args.configDir ?? directory, save: () => fs.writeFileSync(stateFile, JSON.stringify(simulation.aws.state, null, 2)) };
}

async function main(): Promise<number> {
  const args = parsePromoteArgs(process.argv.slice(2));
  const outDir = path.resolve(args.out ?? path.join(PROJECT_DIR, "out"));
  let deps: PromoteDependencies;
  let configDir = path.resolve(args.configDir ?? PROJECT_DIR);
  let done = async () => undefined as void;
  if (args.simulate) {
    const sim = await simulated(args, outDir);
    configDir = path.resolve(sim.configDir);
    deps = {
      topologies: args.topologyFile ? topologySourceFromFile(args.topologyFile) : sim.simulation.topologies,
      clients: sim.simulation.newClientPool(),
      journalClient: sim.simulation.journalClient,
      clock: sim.simulation.clock,
      httpCheck: sim.simulation.httpCheck,
      confirm: ask,
      log,
      renderer: process.stdout.isTTY ? "default" : "simple",
    };
    done = async () => {
      sim.save();
      const calls = sim.simulation.aws.calls;
      const byRegion = calls.reduce<Record<string, number>>((counts, call) => ({ ...counts, [call.region]: (counts[call.region] ?? 0) + 1 }), {});
      log(`Simulation: ${calls.length} calls (${Object.entries(byRegion).map(([region, count]) => `${region} ${count}`).join(", ")}), ${sim.simulation.aws.mutatingCalls().length} mutating; state saved in out/dr/simulation/aws-state.json.`);
      await sim.simulation.stop();
    };
  } else {
    const clients = new ClientPool();
    deps = {
      topologies: args.topologyFile ? topologySourceFromFile(args.topologyFile) : new PulumiTopologySource(),
      clients,
      journalClient: (region) => createJournalClient(region),
      clock: systemClock,
      httpCheck: signedStatusCheck(),
      confirm: ask,
      log,
      renderer: process.stdout.isTTY ? "default" : "simple",
    };
    done = async () => clients.destroy();
  }
  try {
    if (args.releaseLock) return await releaseLock({ stack: args.stack, configDir }, args.releaseLock, deps);
    const result = await promote(
      { stack: args.stack, mode: args.mode ?? "planned", dryRun: args.dryRun, yes: args.yes, resume: args.resume, force: args.force, writeConfig: args.writeConfig, configDir, outDir },
      deps,
    );
    if (!args.yes && !args.dryRun && !process.stdin.isTTY && result.journal === undefined && result.plan?.blockers.length === 0) log("No terminal to confirm on: pass --yes to act without asking.");
    log(`Files: ${result.files.map((file) => path.relative(process.cwd(), file)).join(", ")}`);
    return result.exitCode;
  } finally {
    await done();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof StageConfigError) console.error(error.message);
    else console.error(error instanceof Error ? (process.env.DR_PROMOTE_DEBUG ? error.stack : error.message) : String(error));
    if (!(error instanceof Error) || !error.message.includes("Usage:")) console.error(`\n${USAGE.split("\n")[0]}`);
    process.exit(1);
  },
);
