/**
 * The client API's Dockerfile, checked statically (no Docker daemon here): multi-stage,
 * base pinned by digest, non-root, HEALTHCHECK on /livez, only the bundle in the runtime
 * stage, the RDS CA bundle baked in where the service reads it. The HEALTHCHECK command
 * itself is run: it passes against a server answering /livez and fails when nothing listens.
 */
import { spawn } from "child_process";
import { once } from "events";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { freePort } from "../local/servers";
import { LIVENESS_PATH } from "../services/client-api/src/app";
import { RDS_CA_BUNDLE_PATH } from "../services/shared/env";

const text = fs.readFileSync(path.join(__dirname, "..", "services", "client-api", "Dockerfile"), "utf8");
const instructions = text
  .replace(/\\\n\s*/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line.length > 0 && !line.startsWith("#"));
const runtimeStage = instructions.slice(instructions.map((line) => line.startsWith("FROM ")).lastIndexOf(true));

describe("services/client-api/Dockerfile", () => {
  it("builds in a separate stage from a base pinned by digest", () => {
    expect(instructions.filter((line) => line.startsWith("FROM "))).toEqual(["FROM ${NODE_IMAGE} AS build", "FROM ${NODE_IMAGE}"]);
    expect(instructions).toContain("ARG NODE_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c");
    expect(instructions.some((line) => /^RUN npm ci --ignore-scripts\b/.test(line))).toBe(true);
    expect(instructions).toContain("RUN npx ts-node --transpile-only scripts/service-bundle.ts client-api /out");
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
    // No credential is baked in or set in the image: they arrive from the task definition at run time.
    expect(text).not.toMatch(/PASSWORD|AUTH_TOKEN|SECRET_ARN/i);
  });

  it("has a HEALTHCHECK on /livez that passes on a live server and fails when nothing answers", async () => {
    const healthcheck = runtimeStage.find((line) => line.startsWith("HEALTHCHECK "))!;
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf("CMD ") + 4)) as string[];
    expect(command.slice(0, 2)).toEqual(["node", "-e"]);
    expect(command[2]).toContain(LIVENESS_PATH);
    const run = async (port: number) => (await once(spawn(process.execPath, command.slice(1), { env: { PORT: String(port) } }), "exit"))[0];
    const server = http.createServer((req, res) => res.writeHead(req.url === LIVENESS_PATH ? 200 : 404).end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      // Asynchronous: the server answering it lives in this process's event loop.
      expect(await run((server.address() as AddressInfo).port)).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await run(await freePort())).toBe(1);
  });
});
