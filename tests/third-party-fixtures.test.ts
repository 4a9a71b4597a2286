/**
 * The third-party sample events are kept as published: every file SOURCES.md lists is
 * present, nothing else is, and each still has the sha256 recorded there.
 */
import * as fs from "fs";
import * as path from "path";
import { THIRD_PARTY_DIR, recordedChecksums, sha256Of } from "./support/third-party-events";

function jsonFilesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? jsonFilesUnder(full) : entry.name.endsWith(".json") ? [path.relative(THIRD_PARTY_DIR, full)] : [];
  });
}

describe("third-party sample events", () => {
  const recorded = recordedChecksums();

  it("are exactly the files SOURCES.md lists", () => {
    expect(recorded.length).toBeGreaterThan(20);
    expect(jsonFilesUnder(THIRD_PARTY_DIR).sort()).toEqual(recorded.map((entry) => entry.file).sort());
  });

  it.each(recorded.map((entry) => [entry.file, entry.sha256Prefix]))("%s is unchanged (sha256 %s…)", (file, prefix) => {
    expect(sha256Of(file).startsWith(prefix)).toBe(true);
  });
});
