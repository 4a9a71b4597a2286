/**
 * AWS SDK v3 clients per region for the promotion, every one with explicit connection and
 * request timeouts that throw. With current SDK v3 clients a requestTimeout alone only logs
 * a warning unless throwOnRequestTimeout is set (smithy NodeHttpHandlerOptions docs), so a
 * call into a region that accepts connections but never answers would otherwise wait on
 * the OS; here it fails after the timeout and the step's bounded retries take over.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { RDSClient } from "@aws-sdk/client-rds";
import { RedshiftClient } from "@aws-sdk/client-redshift";
import { S3Client } from "@aws-sdk/client-s3";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export interface RegionalClients {
  readonly region: string;
  readonly rds: RDSClient;
  readonly lambda: LambdaClient;
  readonly ssm: SSMClient;
  readonly s3: S3Client;
  readonly cloudwatch: CloudWatchClient;
  readonly redshift: RedshiftClient;
  readonly iam: IAMClient;
  readonly sts: STSClient;
}

export interface ClientSettings {
  /** TCP connect timeout: a region whose endpoints do not accept connections fails fast. @default 3000 */
  readonly connectionTimeoutMs?: number;
  /** Whole request timeout, thrown as TimeoutError. @default 15000 */
  readonly requestTimeoutMs?: number;
  /** SDK attempts per call (the SDK's standard retry with backoff). @default 3 */
  readonly maxAttempts?: number;
  /** Only for tests and local servers: an endpoint override for every service. */
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

export const DEFAULT_CLIENT_SETTINGS = { connectionTimeoutMs: 3000, requestTimeoutMs: 15000, maxAttempts: 3 } as const;

/** The request handler every promotion client uses: timeouts explicit, and thrown. */
export function timeoutHandler(settings: ClientSettings = {}): NodeHttpHandler {
  return new NodeHttpHandler({
    connectionTimeout: settings.connectionTimeoutMs ?? DEFAULT_CLIENT_SETTINGS.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs ?? DEFAULT_CLIENT_SETTINGS.requestTimeoutMs,
    throwOnRequestTimeout: true,
  });
}

function clientConfig(region: string, settings: ClientSettings) {
  return {
    region,
    maxAttempts: settings.maxAttempts ?? DEFAULT_CLIENT_SETTINGS.maxAttempts,
    requestHandler: timeoutHandler(settings),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  };
}

export function createRegionalClients(region: string, settings: ClientSettings = {}): RegionalClients {
  const config = clientConfig(region, settings);
  return {
    region,
    rds: new RDSClient(config),
    lambda: new LambdaClient(config),
    ssm: new SSMClient(config),
    s3: new S3Client({ ...config, ...(settings.endpoint ? { forcePathStyle: true } : {}) }),
    cloudwatch: new CloudWatchClient(config),
    redshift: new RedshiftClient(config),
    iam: new IAMClient(config),
    sts: new STSClient(config),
  };
}

/** The DynamoDB client of a region's promotion journal table. */
export function createJournalClient(region: string, settings: ClientSettings = {}): DynamoDBClient {
  return new DynamoDBClient(clientConfig(region, settings));
}

/** Clients created once per region, on first use: a region never called gets no client. */
export class ClientPool {
  private readonly clients = new Map<string, RegionalClients>();

  constructor(private readonly create: (region: string) => RegionalClients = (region) => createRegionalClients(region)) {}

  forRegion(region: string): RegionalClients {
    let clients = this.clients.get(region);
    if (!clients) {
      clients = this.create(region);
      this.clients.set(region, clients);
    }
    return clients;
  }

  /** The regions some client was created for. */
  regions(): string[] {
    return [...this.clients.keys()];
  }

  destroy(): void {
    for (const clients of this.clients.values()) {
      for (const client of Object.values(clients)) if (typeof client === "object" && "destroy" in client) client.destroy();
    }
  }
}
