/**
 * PLACEHOLDER, replaced by the `dashboard` branch at merge (take theirs): that one runs the
 * Vite build into a content-hash keyed dir under .cache/dashboard/. This stand-in has the
 * same signature and returns the files of a tiny fixture dir, so the DashboardSite wiring and
 * its mock tests run before the app exists.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface DashboardBuild {
  dir: string;
  files: { path: string; contentType: string; bytes: number; sha256: string }[];
}

const FIXTURE_DIR = path.join(__dirname, "..", "tests", "fixtures", "dashboard-build");
const CONTENT_TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

function filesUnder(dir: string, relative = ""): string[] {
  return fs.readdirSync(path.join(dir, relative), { withFileTypes: true }).flatMap((entry) => {
    const child = path.posix.join(relative, entry.name);
    return entry.isDirectory() ? filesUnder(dir, child) : [child];
  });
}

export async function buildDashboard(): Promise<DashboardBuild> {
  const files = filesUnder(FIXTURE_DIR).sort().map((file) => {
    const bytes = fs.readFileSync(path.join(FIXTURE_DIR, file));
    return { path: file, contentType: CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream", bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  });
  return { dir: FIXTURE_DIR, files };
}
