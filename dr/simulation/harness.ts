/**
 * A whole simulated stage for tests and the offline demo: the state model with its SDK
 * stubs, a real DynamoDB (dynalite on loopback) holding both regions' journal tables, a
 * client pool, a virtual clock (polls wait no real time, durations stay realistic) and a
 * reporting-API check answered by the model (a region that is down does not answer).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EMULATOR_CREDENTIALS, RunningEmulator, createTableAndWait, startDynalite } from "../../tests/support/aws-emulators";
import { HttpCheck } from "../actions";
import { ClientPool, createRegionalClients } from "../clients";
import { Clock, virtualClock } from "../poll";
import { StackTopology } from "../topology";
import { StaticTopologySource } from "../topology-source";
import { InstalledSimulation, installSimulation } from "./aws";
import { fixtureTopologies } from "./fixtures";
import { SimState, SimulatedAws, awsError, initialWorld } from "./world";

export interface Simulation {
  readonly aws: SimulatedAws;
  readonly topologies: StaticTopologySource;
  readonly clock: Clock & { advance(ms: number): void };
  readonly httpCheck: HttpCheck;
  /** One DynamoDB per region, as in AWS: both regions' journal tables have the same name. */
  readonly journals: ReadonlyMap<string, RunningEmulator>;
  journalClient(region: string): DynamoDBClient;
  /** A fresh pool (a new process after a crash gets new clients). */
  newClientPool(): ClientPool;
  stop(): Promise<void>;
}

export interface SimulationOptions {
  readonly topologies?: { primary: StackTopology; dr: StackTopology };
  /** A saved state to continue from (the demo keeps it across runs). */
  readonly state?: SimState;
  readonly now?: Date;
}

const SIMULATED_CREDENTIALS = { accessKeyId: "AKIASIMULATED", secretAccessKey: "simulated" };

export async function startSimulation(options: SimulationOptions = {}): Promise<Simulation> {
  const fixtures = fixtureTopologies();
  const primary = options.topologies?.primary ?? fixtures.prod;
  const dr = options.topologies?.dr ?? fixtures["prod-dr"];
  const now = options.now ?? new Date("2026-12-01T10:00:00Z");
  const aws = new SimulatedAws(options.state ?? initialWorld(primary, dr, now));
  const installed: InstalledSimulation = installSimulation(aws);
  const journals = new Map<string, RunningEmulator>();
  for (const region of new Set([primary.region, dr.region])) journals.set(region, await startDynalite());
  const dynamo = new Map<string, DynamoDBClient>();
  const journalClient = (region: string) => {
    const journal = journals.get(region);
    if (journal === undefined) throw new Error(`The simulation has no region ${region}`);
    let client = dynamo.get(region);
    if (!client) {
      client = new DynamoDBClient({ region, endpoint: journal.endpoint, credentials: EMULATOR_CREDENTIALS });
      dynamo.set(region, client);
    }
    return client;
  };
  for (const topology of [primary, dr]) {
    await createTableAndWait(journalClient(topology.region), {
      TableName: topology.promotionJournalTable,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    });
  }
  const httpCheck: HttpCheck = async (url) => {
    const region = url.match(/\.([a-z]{2}-[a-z]+-\d)\./)?.[1] ?? "unknown";
    aws.calls.push({ region, service: "http", command: "GET", input: { url }, mutating: false });
    if (aws.state.down.includes(region)) throw awsError("TimeoutError", `GET ${url} timed out (simulated outage of ${region})`);
    return 200;
  };
  return {
    aws,
    topologies: new StaticTopologySource([primary, dr], "the simulation's fixture topologies"),
    clock: virtualClock(now.getTime()),
    httpCheck,
    journals,
    journalClient,
    newClientPool: () => new ClientPool((region) => createRegionalClients(region, { credentials: SIMULATED_CREDENTIALS, maxAttempts: 1 })),
    stop: async () => {
      installed.restore();
      for (const client of dynamo.values()) client.destroy();
      for (const journal of journals.values()) await journal.stop();
    },
  };
}
