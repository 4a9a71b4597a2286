/**
 * The liveness endpoint the container HEALTHCHECK calls: `GET /livez` answers 200 `ok`
 * while the poll loop makes progress, 503 when it has stalled (ECS then replaces the
 * task). It listens on all interfaces inside the task, and the task's security group
 * admits nothing inbound, so only the HEALTHCHECK (in the container) reaches it.
 */
import * as http from "http";
import type { AddressInfo } from "net";

import { LIVENESS_PATH } from "../../shared/env";

export { LIVENESS_PATH };

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export function startHealthServer(port: number, healthy: () => boolean): Promise<HealthServer> {
  const server = http.createServer((request, response) => {
    const ok = request.method === "GET" && request.url === LIVENESS_PATH;
    const alive = ok && healthy();
    response.writeHead(!ok ? 404 : alive ? 200 : 503, { "content-type": "text/plain" });
    response.end(!ok ? "not found" : alive ? "ok" : "stalled");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
