/**
 * The dashboard's static build (services-contract.md, Dashboard): `buildDashboard()` runs
 * the Vite build of services/dashboard/ into `.cache/dashboard/<key>/site/`, where the key is
 * a hash of every source file plus the build's own recipe and the versions of vite and
 * uplot. The Pulumi program calls it on every evaluation (and so does every mock test that
 * evaluates the stack), so a cached build costs one read of the sources and one JSON file:
 * milliseconds. A cold build runs vite offline in a child process (vite 8 is an ES module,
 * which neither ts-node's CommonJS nor jest can load) and takes a few seconds.
 * `config.json` is never part of the build: the stack writes it as its own object.
 */
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface DashboardBuild {
  dir: string;
  files: { path: string; contentType: string; bytes: number; sha256: string }[];
}

const PROJECT_DIR = path.join(__dirname, "..");
export const DASHBOARD_SOURCE_DIR = path.join(PROJECT_DIR, "services", "dashboard");
export const DASHBOARD_CACHE_DIR = path.join(PROJECT_DIR, ".cache", "dashboard");
/** Builds kept besides the newest: enough to flip between a few branches without rebuilding. */
const KEEP_BUILDS = 4;
const FILES_JSON = "files.json";

/**
 * Everything vite is told, besides the paths. Part of the cache key: a change here is a new build.
 * `publicDir: false`: nothing is copied unprocessed, so no stray config.json can reach the site.
 */
export const VITE_BUILD_OPTIONS = {
  base: "/",
  publicDir: false,
  logLevel: "warn",
  build: { emptyOutDir: true, target: "es2022", sourcemap: false, assetsDir: "assets", reportCompressedSize: false, modulePreload: { polyfill: false } },
} as const;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

/** Relative posix paths of every file under `dir`, sorted, skipping the names in `skip`. */
export function filesUnder(dir: string, skip: ReadonlySet<string> = new Set(), relative = ""): string[] {
  return fs
    .readdirSync(path.join(dir, relative), { withFileTypes: true })
    .filter((entry) => !skip.has(entry.name))
    .flatMap((entry) => {
      const child = path.posix.join(relative, entry.name);
      return entry.isDirectory() ? filesUnder(dir, skip, child) : [child];
    })
    .sort();
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

export interface CacheKeyInputs {
  /** Each source file's relative path and content hash. */
  readonly sources: readonly { path: string; sha256: string }[];
  /** Package name → version of what the build depends on (vite, uplot). */
  readonly versions: Readonly<Record<string, string>>;
  /** The vite options (VITE_BUILD_OPTIONS). */
  readonly recipe: unknown;
}

/** The cache key: 24 hex digits of a hash over the sorted sources, the versions and the recipe. Order-independent. */
export function buildCacheKey(inputs: CacheKeyInputs): string {
  const sources = [...inputs.sources].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((source) => `${source.path}\0${source.sha256}`);
  const versions = Object.keys(inputs.versions).sort().map((name) => `${name}@${inputs.versions[name]}`);
  return sha256(JSON.stringify({ sources, versions, recipe: inputs.recipe })).slice(0, 24);
}

function installedVersion(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

/** Vite's JavaScript API, in a Node child that can import ES modules; options arrive as JSON. */
const VITE_CHILD = `
import { build } from "vite";
const options = JSON.parse(process.argv[1]);
await build({ ...options, configFile: false });
`;

/** The key of the sources as they are now (what decides whether the cache answers). */
export function currentCacheKey(sourceDir = DASHBOARD_SOURCE_DIR): string {
  const sources = filesUnder(sourceDir, new Set(["dist", "node_modules"])).map((file) => ({ path: file, sha256: sha256(fs.readFileSync(path.join(sourceDir, file))) }));
  return buildCacheKey({ sources, versions: { vite: installedVersion("vite"), uplot: installedVersion("uplot") }, recipe: { options: VITE_BUILD_OPTIONS, runner: VITE_CHILD } });
}

/** The file list of a finished build directory. */
export function describeBuild(siteDir: string): DashboardBuild {
  const files = filesUnder(siteDir).map((file) => {
    const bytes = fs.readFileSync(path.join(siteDir, file));
    return { path: file, contentType: contentTypeFor(file), bytes: bytes.length, sha256: sha256(bytes) };
  });
  return { dir: siteDir, files };
}

function runVite(root: string, outDir: string, cacheDir: string): Promise<void> {
  const options = { ...VITE_BUILD_OPTIONS, root, cacheDir, build: { ...VITE_BUILD_OPTIONS.build, outDir } };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", VITE_CHILD, JSON.stringify(options)], { cwd: PROJECT_DIR, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`The dashboard's vite build failed (exit ${code}):\n${output.trim()}`))));
  });
}

function pruneOldBuilds(cacheDir: string, keep: string): void {
  const builds = fs
    .readdirSync(cacheDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^[0-9a-f]{24}$/.test(entry.name) && entry.name !== keep)
    .map((entry) => ({ name: entry.name, time: fs.statSync(path.join(cacheDir, entry.name)).mtimeMs }))
    .sort((a, b) => b.time - a.time);
  for (const old of builds.slice(KEEP_BUILDS)) fs.rmSync(path.join(cacheDir, old.name), { recursive: true, force: true });
}

/** A finished build's file list; its dir is where it is now (the checkout may have moved since). */
function readCached(keyDir: string): DashboardBuild | undefined {
  try {
    const { files } = JSON.parse(fs.readFileSync(path.join(keyDir, FILES_JSON), "utf8")) as DashboardBuild;
    return { dir: path.join(keyDir, "site"), files };
  } catch {
    return undefined;
  }
}

async function coldBuild(key: string, sourceDir: string, cacheDir: string): Promise<DashboardBuild> {
  const keyDir = path.join(cacheDir, key);
  // Built beside the cache and renamed into place, so a reader never sees half a build, and
  // two processes building at once (jest workers) both end with the same complete one.
  const work = fs.mkdtempSync(path.join(cacheDir, `tmp-${key}-`));
  try {
    await runVite(sourceDir, path.join(work, "site"), path.join(cacheDir, "vite"));
    const described = describeBuild(path.join(work, "site"));
    if (described.files.some((file) => file.path === "config.json")) throw new Error("The dashboard build contains config.json; the stack writes that file, the build must not");
    if (!described.files.some((file) => file.path === "index.html")) throw new Error("The dashboard build has no index.html");
    fs.writeFileSync(path.join(work, FILES_JSON), `${JSON.stringify({ files: described.files }, null, 2)}\n`);
    try {
      fs.renameSync(work, keyDir);
    } catch (error) {
      // Another process finished the same build first: theirs is identical.
      if (readCached(keyDir) === undefined) throw error;
    }
    pruneOldBuilds(cacheDir, key);
    return readCached(keyDir)!;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const inFlight = new Map<string, Promise<DashboardBuild>>();

/**
 * The build of `sourceDir` as it is now: from `cacheDir` when it holds it, otherwise built
 * (once per process, however many evaluations ask at the same time).
 */
export async function buildDashboardFrom(sourceDir: string, cacheDir: string): Promise<DashboardBuild> {
  const key = currentCacheKey(sourceDir);
  const cached = readCached(path.join(cacheDir, key));
  if (cached !== undefined) return cached;
  const flightKey = `${cacheDir}\0${key}`;
  let flight = inFlight.get(flightKey);
  if (flight === undefined) {
    fs.mkdirSync(cacheDir, { recursive: true });
    flight = coldBuild(key, sourceDir, cacheDir).finally(() => inFlight.delete(flightKey));
    inFlight.set(flightKey, flight);
  }
  return flight;
}

/** The contract's entry point (services-contract.md): services/dashboard built into .cache/dashboard/. */
export function buildDashboard(): Promise<DashboardBuild> {
  return buildDashboardFrom(DASHBOARD_SOURCE_DIR, DASHBOARD_CACHE_DIR);
}
