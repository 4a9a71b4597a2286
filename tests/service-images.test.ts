/**
 * The services' Dockerfiles, checked statically (no Docker daemon here): multi-stage, base
 * pinned by digest, non-root, HEALTHCHECK on the liveness path, only the bundle in the
 * runtime stage, the RDS CA bundle baked in. Each HEALTHCHECK command itself is run against
 * a liveness endpoint that answers as a live and as a stalled service would.
 */
import { spawn } from "child_process";
import { once } from "events";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { LIVENESS_PATH } from "../components/lib/fargate";
import { RDS_CA_BUNDLE_PATH } from "../services/shared/env";

/** Each service, and the variable its HEALTHCHECK reads the port from. */
const SERVICES = [
  ["aggregator", "AGGREGATOR_HEALTH_PORT"],
  ["client-api", "PORT"],
] as const;

function dockerfile(service: string) {
  const text = fs.readFileSync(path.join(__dirname, "..", "services", service, "Dockerfile"), "utf8");
  const instructions = text
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"));
  const runtimeStage = instructions.slice(instructions.map((line) => line.startsWith("FROM ")).lastIndexOf(true));
  return { text, instructions, runtimeStage };
}

/** GET /livez answering 200 while `alive()`, 503 otherwise. */
async function liveness(alive: () => boolean): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const ok = request.url === LIVENESS_PATH;
    response.writeHead(!ok ? 404 : alive() ? 200 : 503);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((done) => server.close(() => done())) };
}

describe.each(SERVICES)("services/%s/Dockerfile", (service, portVariable) => {
  const { text, instructions, runtimeStage } = dockerfile(service);

  it("builds in a separate stage from a base pinned by digest", () => {
    expect(instructions.filter((line) => line.startsWith("FROM "))).toEqual(["FROM ${NODE_IMAGE} AS build", "FROM ${NODE_IMAGE}"]);
    expect(instructions).toContain("ARG NODE_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c");
    expect(instructions).toContain(`RUN npx ts-node --transpile-only scripts/service-bundle.ts ${service} /out`);
  });

  it("runs only the bundle, as the non-root node user, with the RDS CA bundle readable", () => {
    expect(runtimeStage.filter((line) => /^(COPY|ADD) /.test(line))).toEqual([
      `ADD https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem ${RDS_CA_BUNDLE_PATH}`,
      "COPY --from=build --chown=root:root /out/main.js ./main.js",
    ]);
    expect(runtimeStage).toContain(`RUN chmod 0644 ${RDS_CA_BUNDLE_PATH}`);
    expect(runtimeStage).toContain("ENV NODE_ENV=production");
    expect(runtimeStage.filter((line) => line.startsWith("USER "))).toEqual(["USER node"]);
    expect(runtimeStage[runtimeStage.length - 1]).toBe('CMD ["node", "main.js"]');
    expect(text).not.toMatch(/DB_SECRET|PASSWORD|TOKEN=/i);
  });

  it("has a HEALTHCHECK whose command passes on a live service and fails on a stalled one", async () => {
    const healthcheck = runtimeStage.find((line) => line.startsWith("HEALTHCHECK "))!;
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf("CMD ") + 4)) as string[];
    expect(command.slice(0, 2)).toEqual(["node", "-e"]);
    expect(command[2]).toContain(LIVENESS_PATH);
    let alive = true;
    const server = await liveness(() => alive);
    try {
      // Asynchronous: the server answering it lives in this process's event loop.
      const run = async () => (await once(spawn(process.execPath, command.slice(1), { env: { [portVariable]: String(server.port) } }), "exit"))[0];
      expect(await run()).toBe(0);
      alive = false;
      expect(await run()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
