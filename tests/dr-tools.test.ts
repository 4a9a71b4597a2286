/** dr:promote's edges: client timeouts toward a hanging region, stack-file edits, flags, topology sources. */
import { DescribeGlobalClustersCommand } from "@aws-sdk/client-rds";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as yaml from "js-yaml";
import { parsePromoteArgs } from "../dr/cli-args";
import { createRegionalClients } from "../dr/clients";
import { setConfigLine, writeConfigChanges } from "../dr/config-changes";
import { principalArnOf } from "../dr/observe";
import { fixtureStackFile, fixtureTopologies } from "../dr/simulation/fixtures";
import { PulumiTopologySource, parseTopology, topologySourceFromFile } from "../dr/topology-source";
import { tempDirectory } from "./support/dr";

describe("clients toward a region that accepts connections and never answers", () => {
  let server: net.Server;
  let endpoint: string;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => server.close(resolve));
  });

  it("throw a TimeoutError instead of waiting on the OS", async () => {
    const clients = createRegionalClients("eu-west-1", { endpoint, requestTimeoutMs: 300, connectionTimeoutMs: 300, maxAttempts: 1, credentials: { accessKeyId: "AKIATEST", secretAccessKey: "test" } });
    await expect(clients.rds.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: "dp-prod-oltp-global" }))).rejects.toMatchObject({ name: "TimeoutError" });
    clients.rds.destroy();
  });
});

describe("stack-file edits (--write-config)", () => {
  const document = ["# prod: the comment on top stays", "config:", "  # keys below", "  data-platform:stage: prod", "  data-platform:activeRegion: eu-west-1 # set by dr:promote", "  data-platform:alarmEmails:", "    - a@example.com", "", "# trailing", ""].join("\n");

  it("replaces a key's value in place, keeping its comment and every other line", () => {
    const edited = setConfigLine(document, "activeRegion", "eu-central-1");
    expect(edited).toBe(document.replace("activeRegion: eu-west-1 #", "activeRegion: eu-central-1 #"));
  });

  it("adds a missing key at the end of the config block and quotes what YAML would misread", () => {
    const edited = setConfigLine(document, "warehouseRestoreSnapshot", "copy:rs:dp-prod-warehouse-1");
    const lines = edited.split("\n");
    expect(lines[7]).toBe('  data-platform:warehouseRestoreSnapshot: "copy:rs:dp-prod-warehouse-1"');
    expect(lines.slice(0, 7)).toEqual(document.split("\n").slice(0, 7));
    expect((yaml.load(edited) as { config: Record<string, unknown> }).config["data-platform:warehouseRestoreSnapshot"]).toBe("copy:rs:dp-prod-warehouse-1");
    expect((yaml.load(setConfigLine(document, "activeRegion", "")) as { config: Record<string, unknown> }).config["data-platform:activeRegion"]).toBe("");
  });

  it("refuses a file without a config block, and a missing stack file, naming them", () => {
    expect(() => setConfigLine("name: x\n", "activeRegion", "eu-west-1")).toThrow(/no top-level "config:" block/);
    const directory = tempDirectory("dr-yaml-");
    expect(() => writeConfigChanges([{ stack: "prod", key: "activeRegion", value: "eu-west-1", current: "", reason: "" }], directory)).toThrow(/no stack file .*Pulumi\.prod\.yaml/);
  });

  it("writes the fixture stack files so the config still validates", () => {
    const directory = tempDirectory("dr-yaml-");
    fs.writeFileSync(path.join(directory, "Pulumi.prod.yaml"), fixtureStackFile("prod"));
    writeConfigChanges([{ stack: "prod", key: "activeRegion", value: "eu-central-1", current: "", reason: "" }], directory);
    const text = fs.readFileSync(path.join(directory, "Pulumi.prod.yaml"), "utf8");
    expect(text).toContain("# Every AWS resource names its provider.");
    expect((yaml.load(text) as { config: Record<string, unknown> }).config["data-platform:activeRegion"]).toBe("eu-central-1");
  });
});

describe("flags", () => {
  it("parses the documented flags", () => {
    expect(parsePromoteArgs(["--stack", "prod-dr", "--mode", "planned", "--dry-run", "--yes", "--force", "--write-config", "--topology-file=t.json"])).toMatchObject({
      stack: "prod-dr", mode: "planned", dryRun: true, yes: true, force: true, writeConfig: true, topologyFile: "t.json", resume: false,
    });
    expect(parsePromoteArgs(["--stack", "prod-dr", "--resume"]).resume).toBe(true);
    expect(parsePromoteArgs(["--stack", "prod-dr", "--resume", "20261201T100000Z-abcd", "--yes"])).toMatchObject({ resume: "20261201T100000Z-abcd", yes: true });
  });

  it("refuses what it cannot act on, naming it", () => {
    expect(() => parsePromoteArgs(["--mode", "planned"])).toThrow(/--stack is required/);
    expect(() => parsePromoteArgs(["--stack", "prod-dr"])).toThrow(/--mode is required/);
    expect(() => parsePromoteArgs(["--stack", "prod-dr", "--mode", "graceful"])).toThrow(/--mode must be "planned" or "unplanned", not "graceful"/);
    expect(() => parsePromoteArgs(["--stack", "prod-dr", "--mode", "unplanned", "--force"])).toThrow(/--force applies to planned mode only/);
    expect(() => parsePromoteArgs(["--stack", "prod-dr", "--mode", "planned", "--fast"])).toThrow(/Unknown flag --fast/);
  });
});

describe("topology sources", () => {
  it("runs `pulumi stack output drTopology --json --stack <name>` through the injected runner", async () => {
    const calls: string[][] = [];
    const source = new PulumiTopologySource(async (command, args) => {
      calls.push([command, ...args]);
      return { stdout: JSON.stringify(fixtureTopologies()["prod-dr"]), stderr: "" };
    });
    expect((await source.load("acme/data-platform/prod-dr")).region).toBe("eu-central-1");
    expect(calls).toEqual([["pulumi", "stack", "output", "drTopology", "--json", "--stack", "acme/data-platform/prod-dr"]]);
    const broken = new PulumiTopologySource(async () => ({ stdout: "error: no output named drTopology", stderr: "" }));
    await expect(broken.load("prod")).rejects.toThrow(/did not print JSON \(does the stack export drTopology\?\)/);
  });

  it("reads both topologies from a file, by short or qualified name", async () => {
    const file = path.join(tempDirectory("dr-topology-"), "topology.json");
    fs.writeFileSync(file, JSON.stringify(fixtureTopologies()));
    const source = topologySourceFromFile(file);
    expect((await source.load("prod")).role).toBe("primary");
    expect((await source.load("acme/data-platform/prod-dr")).role).toBe("dr");
    await expect(source.load("staging")).rejects.toThrow(/has no topology for stack staging/);
  });

  it("names the first wrong field of a malformed document", () => {
    const { consumers, ...withoutConsumers } = fixtureTopologies().prod;
    void consumers;
    expect(() => parseTopology(withoutConsumers, "x.json")).toThrow('x.json is not a drTopology document: "consumers" must be a list');
    expect(() => parseTopology({ ...fixtureTopologies().prod, version: 2 }, "x.json")).toThrow(/version is 2, expected 1/);
  });
});

describe("the caller", () => {
  it("simulates the role behind an assumed-role session", () => {
    expect(principalArnOf("arn:aws:sts::123456789012:assumed-role/dr-operator/alice")).toBe("arn:aws:iam::123456789012:role/dr-operator");
    expect(principalArnOf("arn:aws:iam::123456789012:user/alice")).toBe("arn:aws:iam::123456789012:user/alice");
  });
});
