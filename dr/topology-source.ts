/**
 * Where the two stacks' drTopology documents come from. Real mode asks Pulumi
 * (`pulumi stack output drTopology --json --stack <name>`, through an injectable runner);
 * `--topology-file` reads a saved file with both. Each run saves what it read as
 * out/dr/<stack>/last-topology.json, so an unplanned run whose state backend is out of
 * reach can still start from the last known topology.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import { shortStackName } from "../config/regions";
import { StackTopology, TOPOLOGY_OUTPUT } from "./topology";

export interface TopologySource {
  /** Human description for the report, e.g. "pulumi stack output". */
  readonly description: string;
  /** The topology of a stack, by short or fully qualified name. */
  load(stack: string): Promise<StackTopology>;
}

export type CommandRunner = (command: string, args: string[]) => Promise<{ stdout: string; stderr: string }>;

export const execRunner: CommandRunner = (command, args) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${stderr.trim() || error.message}`));
      else resolve({ stdout, stderr });
    });
  });

/** Checks the shape of a drTopology document; names the first field that is wrong. */
export function parseTopology(value: unknown, origin: string): StackTopology {
  const fail = (problem: string): never => {
    throw new Error(`${origin} is not a drTopology document: ${problem}`);
  };
  if (typeof value !== "object" || value === null) return fail("not an object");
  const document = value as Record<string, unknown>;
  if (document.version !== 1) fail(`version is ${JSON.stringify(document.version)}, expected 1`);
  for (const key of ["stack", "partnerStack", "stage", "region", "partnerRegion", "activeRegion", "promotionJournalTable", "reportingApiUrl"]) {
    if (typeof document[key] !== "string") fail(`"${key}" must be a string`);
  }
  if (document.role !== "primary" && document.role !== "dr") fail(`"role" must be "primary" or "dr"`);
  for (const key of ["consumers", "lakeTriggers", "endpointParameters", "lakeReplication"]) {
    if (!Array.isArray(document[key])) fail(`"${key}" must be a list`);
  }
  const table = document.speedLayerTable as Record<string, unknown> | undefined;
  if (!table || typeof table.name !== "string" || !Array.isArray(table.replicaRegions)) fail(`"speedLayerTable" needs a name and replicaRegions`);
  const targets = document.targets as Record<string, unknown> | undefined;
  if (!targets || ["rpoStreamSeconds", "rpoBatchMinutes", "rtoMinutes"].some((key) => typeof targets[key] !== "number")) fail(`"targets" needs rpoStreamSeconds, rpoBatchMinutes and rtoMinutes`);
  return document as unknown as StackTopology;
}

export class PulumiTopologySource implements TopologySource {
  readonly description = "pulumi stack output";

  constructor(private readonly run: CommandRunner = execRunner) {}

  async load(stack: string): Promise<StackTopology> {
    const { stdout } = await this.run("pulumi", ["stack", "output", TOPOLOGY_OUTPUT, "--json", "--stack", stack]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw new Error(`pulumi stack output ${TOPOLOGY_OUTPUT} --stack ${stack} did not print JSON (does the stack export ${TOPOLOGY_OUTPUT}?)`);
    }
    return parseTopology(parsed, `the ${TOPOLOGY_OUTPUT} output of ${stack}`);
  }
}

/** Topologies held in memory (the simulation's fixtures, or what a test builds). */
export class StaticTopologySource implements TopologySource {
  constructor(
    private readonly topologies: StackTopology[],
    readonly description = "built-in topologies",
  ) {}

  async load(stack: string): Promise<StackTopology> {
    const found = this.topologies.find((topology) => topology.stack === stack || shortStackName(topology.stack) === shortStackName(stack));
    if (!found) throw new Error(`${this.description} has no topology for stack ${stack} (it has ${this.topologies.map((topology) => topology.stack).join(", ") || "none"})`);
    return found;
  }
}

/**
 * A file with both topologies: an object keyed by short stack name
 * ({"prod": {...}, "prod-dr": {...}}), or a list of topologies.
 */
export function topologySourceFromFile(file: string): TopologySource {
  if (!fs.existsSync(file)) throw new Error(`No topology file ${file}`);
  const document = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  const entries = Array.isArray(document) ? document : Object.values(document as Record<string, unknown>);
  return new StaticTopologySource(entries.map((entry, index) => parseTopology(entry, `${file} entry ${index + 1}`)), `topology file ${file}`);
}
