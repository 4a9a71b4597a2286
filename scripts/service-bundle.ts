/**
 * One bundle per ECS service: esbuild packs `services/<name>/src/main.ts` with everything it
 * imports (pg, ioredis, the AWS SDK clients, the shared `functions/` modules) into a single
 * CommonJS file. The Dockerfiles run exactly this in their build stage
 * (`npx ts-node scripts/service-bundle.ts <name> /out`), and the service tests start the
 * same bundle, so what is tested is what the image runs.
 *
 *   ts-node scripts/service-bundle.ts <service> <outDir>   → <outDir>/main.js
 */
import { build } from "esbuild";
import * as path from "path";
import { PROJECT_DIR } from "./engine";

/** Optional requires that pg and ioredis guard at run time; nothing here uses them. */
const NEVER_LOADED = ["pg-native", "cloudflare:sockets"];

export interface ServiceBundle {
  readonly file: string;
  readonly bytes: number;
}

export function serviceEntry(service: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(service)) throw new Error(`service-bundle: "${service}" is not a service folder name (lowercase letters, digits and -)`);
  return path.join(PROJECT_DIR, "services", service, "src", "main.ts");
}

export async function bundleService(service: string, outDir: string): Promise<ServiceBundle> {
  const file = path.join(outDir, "main.js");
  const result = await build({
    entryPoints: [serviceEntry(service)],
    outfile: file,
    bundle: true,
    platform: "node",
    // The images run Node 22, the Lambda runtime's major.
    target: "node22",
    format: "cjs",
    external: NEVER_LOADED,
    sourcemap: false,
    legalComments: "none",
    metafile: true,
    logLevel: "silent",
  });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  return { file, bytes };
}

if (require.main === module) {
  const [service, outDir] = process.argv.slice(2);
  if (!service || !outDir) {
    console.error("usage: ts-node scripts/service-bundle.ts <service> <outDir>");
    process.exit(2);
  }
  bundleService(service, path.resolve(outDir)).then(
    (bundle) => console.log(`${service}: ${path.relative(process.cwd(), bundle.file)} (${Math.round(bundle.bytes / 1024)} KiB)`),
    (error: Error) => {
      console.error(`service-bundle: ${error.message}`);
      process.exit(1);
    },
  );
}
