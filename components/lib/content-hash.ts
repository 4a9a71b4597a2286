import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Folders that are never part of an image's build inputs (see .dockerignore). */
const SKIPPED_DIRECTORIES = new Set(["node_modules", ".cache", ".git", "out", "dist"]);

function filesUnder(root: string, relative: string): string[] {
  const absolute = path.join(root, relative);
  if (!fs.existsSync(absolute)) return [];
  if (!fs.statSync(absolute).isDirectory()) return [relative];
  return fs
    .readdirSync(absolute)
    .filter((entry) => !SKIPPED_DIRECTORIES.has(entry))
    .flatMap((entry) => filesUnder(root, path.posix.join(relative, entry)));
}

/**
 * A SHA-256 over the files an image is built from (paths relative to `root`, folders
 * walked recursively), each contributing its relative path and its bytes, in sorted
 * order: the same inputs give the same hash on every machine, and any change to a
 * source, the Dockerfile or the lockfile gives a new one. A path that does not exist
 * contributes its name only, so adding it later changes the hash too.
 */
export function contentHash(root: string, inputs: readonly string[]): string {
  const hash = createHash("sha256");
  for (const input of [...inputs].sort()) {
    const files = filesUnder(root, input).sort();
    if (files.length === 0) hash.update(`missing:${input}\0`);
    for (const file of files) {
      hash.update(`${file}\0`);
      hash.update(fs.readFileSync(path.join(root, file)));
      hash.update("\0");
    }
  }
  return hash.digest("hex");
}
