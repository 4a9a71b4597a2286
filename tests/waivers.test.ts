import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { WAIVABLE_POLICY_NAMES, currentWaivers } from "../policies/catalog";
import { sqsQueueEncryption } from "../policies/encryption-at-rest";
import { s3BucketEncryption } from "../policies/s3";
import {
  Waiver,
  WaiverBook,
  applyWaivers,
  dispositionOf,
  isExpired,
  loadWaivers,
  parseWaivers,
  waiverMatches,
  waiverRegistryPolicy,
  withWaivers,
} from "../policies/waiver-logic";
import { findingsOf, stackFindings, subject, urnOf } from "./support/policy-fixtures";

const QUEUE = "aws:sqs/queue:Queue";
const TODAY = "2026-11-21";
const POLICIES = ["sqs-queue-kms-encryption", "s3-bucket-sse-kms"];
const queueUrn = urnOf(QUEUE, "legacy-queue", "prod");

const waiver = (overrides: Partial<Waiver> = {}): Waiver => ({
  policy: "sqs-queue-kms-encryption",
  resource: "legacy-queue",
  reason: "Third-party producer cannot use our KMS key until its Q1 release",
  expires: "2026-12-31",
  ...overrides,
});
const book = (waivers: Waiver[], today = TODAY): WaiverBook => ({ waivers, problems: [], today });

describe("parseWaivers", () => {
  it("keeps well-formed waivers", () => {
    const parsed = parseWaivers({ waivers: [waiver(), waiver({ resource: queueUrn, stacks: ["prod"] })] }, POLICIES, TODAY);
    expect(parsed.problems).toEqual([]);
    expect(parsed.waivers).toHaveLength(2);
  });

  it("rejects a waiver for an unknown policy", () => {
    const parsed = parseWaivers({ waivers: [waiver({ policy: "sqs-encryption-typo" })] }, POLICIES, TODAY);
    expect(parsed.waivers).toEqual([]);
    expect(parsed.problems[0].message).toMatch(/unknown policy "sqs-encryption-typo"/);
  });

  it.each([
    ["a missing reason", { reason: "" }, /non-empty "reason"/],
    ["a non-ISO expiry", { expires: "31/12/2026" }, /not an ISO date/],
    ["an impossible date", { expires: "2026-02-30" }, /not an ISO date/],
    ["stacks that are not a list", { stacks: "prod" as unknown as string[] }, /"stacks"/],
  ])("rejects %s", (_label, overrides, message) => {
    expect(parseWaivers({ waivers: [waiver(overrides)] }, POLICIES, TODAY).problems[0].message).toMatch(message);
  });

  it("rejects a document without a waivers list", () => {
    expect(parseWaivers([], POLICIES, TODAY).problems[0].message).toMatch(/"waivers" list/);
  });
});

describe("expiry", () => {
  it("holds through its expiry day and lapses the day after", () => {
    expect(isExpired(waiver({ expires: "2026-11-21" }), "2026-11-21")).toBe(false);
    expect(isExpired(waiver({ expires: "2026-11-21" }), "2026-11-22")).toBe(true);
  });
});

describe("matching", () => {
  it("matches the policy and the resource by logical name or URN", () => {
    expect(waiverMatches(waiver(), "sqs-queue-kms-encryption", queueUrn)).toBe(true);
    expect(waiverMatches(waiver({ resource: queueUrn }), "sqs-queue-kms-encryption", queueUrn)).toBe(true);
  });

  it("does not cover another resource or another policy", () => {
    expect(waiverMatches(waiver(), "sqs-queue-kms-encryption", urnOf(QUEUE, "ingest-queue", "prod"))).toBe(false);
    expect(waiverMatches(waiver({ resource: "legacy" }), "sqs-queue-kms-encryption", queueUrn)).toBe(false);
    expect(waiverMatches(waiver(), "s3-bucket-sse-kms", queueUrn)).toBe(false);
  });

  it("is limited to the stacks it names", () => {
    expect(waiverMatches(waiver({ stacks: ["prod"] }), "sqs-queue-kms-encryption", queueUrn)).toBe(true);
    expect(waiverMatches(waiver({ stacks: ["dev"] }), "sqs-queue-kms-encryption", queueUrn)).toBe(false);
  });
});

describe("dispositionOf", () => {
  it("waives a finding under an active waiver", () => {
    expect(dispositionOf("sqs-queue-kms-encryption", queueUrn, book([waiver()]))).toEqual({ kind: "waived", waiver: waiver() });
  });

  it("reopens a finding whose waiver expired", () => {
    const expired = waiver({ expires: "2026-10-01" });
    expect(dispositionOf("sqs-queue-kms-encryption", queueUrn, book([expired]))).toEqual({ kind: "waiver-expired", waiver: expired });
  });

  it("prefers an active waiver over an expired one for the same finding", () => {
    const disposition = dispositionOf("sqs-queue-kms-encryption", queueUrn, book([waiver({ expires: "2026-01-01" }), waiver()]));
    expect(disposition.kind).toBe("waived");
  });

  it("leaves findings of unwaived resources and stack-wide findings open", () => {
    expect(dispositionOf("sqs-queue-kms-encryption", urnOf(QUEUE, "other", "prod"), book([waiver()])).kind).toBe("open");
    expect(dispositionOf("sqs-queue-kms-encryption", undefined, book([waiver()])).kind).toBe("open");
  });

  it("reports a waived finding as advisory, naming the reason and expiry", () => {
    const reported = applyWaivers("sqs-queue-kms-encryption", "No kmsMasterKeyId.", queueUrn, book([waiver({ approvedBy: "security" })]));
    expect(reported.enforcementLevel).toBe("advisory");
    expect(reported.waiver?.expires).toBe("2026-12-31");
    expect(reported.message).toMatch(/^\[waived until 2026-12-31, approved by security: Third-party producer.*\] No kmsMasterKeyId\.$/);
  });

  it("says when a waiver has expired, at the policy's own level", () => {
    const reported = applyWaivers("sqs-queue-kms-encryption", "No kmsMasterKeyId.", queueUrn, book([waiver({ expires: "2026-10-01" })]));
    expect(reported.enforcementLevel).toBeUndefined();
    expect(reported.message).toMatch(/waiver expired on 2026-10-01/);
  });
});

describe("withWaivers", () => {
  const unencryptedQueue = subject(QUEUE, {}, { name: "legacy-queue", stack: "prod" });

  it("passes waived findings of a resource policy through as waived, not hidden", async () => {
    const [finding] = await findingsOf(withWaivers(sqsQueueEncryption, book([waiver()])), [unencryptedQueue]);
    expect(finding).toMatchObject({ urn: unencryptedQueue.urn, enforcementLevel: "advisory", waiver: { reason: waiver().reason } });
  });

  it("keeps the engine's type filter on wrapped validations", () => {
    const wrapped = withWaivers(sqsQueueEncryption, book([]));
    expect((wrapped.validateResource as { __pulumiType?: string }).__pulumiType).toBe(QUEUE);
  });

  it("waives one resource of a stack policy and not the others", async () => {
    const buckets = ["raw", "access-logs"].map((name) => subject("aws:s3/bucket:Bucket", { id: `${name}-id` }, { name, stack: "prod" }));
    const findings = await stackFindings(withWaivers(s3BucketEncryption, book([waiver({ policy: "s3-bucket-sse-kms", resource: "access-logs" })])), buckets);
    expect(findings.map((f) => [f.urn, f.waiver === undefined ? "open" : "waived"])).toEqual([
      [buckets[0].urn, "open"],
      [buckets[1].urn, "waived"],
    ]);
  });
});

describe("waiver-registry policy", () => {
  const resources = [subject(QUEUE, {}, { name: "legacy-queue", stack: "prod" })];

  it("is quiet when every waiver is valid and current", async () => {
    expect(await stackFindings(waiverRegistryPolicy(book([waiver()])), resources)).toEqual([]);
  });

  it("makes an expired waiver a violation of its own", async () => {
    const [finding] = await stackFindings(waiverRegistryPolicy(book([waiver({ expires: "2026-11-20" })])), resources);
    expect(finding.message).toMatch(/legacy-queue expired on 2026-11-20/);
    expect(finding.enforcementLevel).toBeUndefined();
  });

  it("ignores an expired waiver scoped to another stack", async () => {
    expect(await stackFindings(waiverRegistryPolicy(book([waiver({ expires: "2026-01-01", stacks: ["dev"] })])), resources)).toEqual([]);
  });

  it("reports unusable entries", async () => {
    const parsed = parseWaivers({ waivers: [waiver({ policy: "nope" })] }, POLICIES, TODAY);
    const [finding] = await stackFindings(waiverRegistryPolicy(parsed), resources);
    expect(finding.message).toMatch(/unknown policy "nope"/);
  });

  it("flags, as advisory, a stack-scoped waiver whose resource is not in the stack", async () => {
    const [finding] = await stackFindings(waiverRegistryPolicy(book([waiver({ resource: "renamed-queue", stacks: ["prod"] })])), resources);
    expect(finding).toMatchObject({ enforcementLevel: "advisory" });
    expect(finding.message).toMatch(/renamed-queue, which is not in stack prod/);
  });
});

describe("waiver files", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "waivers-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads policies/waivers.json without problems, against the pack's policy ids", () => {
    const current = currentWaivers(new Date("2026-11-21T12:00:00Z"));
    expect(current.problems).toEqual([]);
    expect(current.today).toBe("2026-11-21");
    expect(current.waivers.every((w) => WAIVABLE_POLICY_NAMES.includes(w.policy))).toBe(true);
  });

  it("treats a missing file as no waivers and a broken one as a problem", () => {
    expect(loadWaivers(POLICIES, TODAY, path.join(dir, "absent.json"))).toEqual({ waivers: [], problems: [], today: TODAY });
    const broken = path.join(dir, "broken.json");
    fs.writeFileSync(broken, "{ waivers: [");
    expect(loadWaivers(POLICIES, TODAY, broken).problems[0].message).toMatch(/not valid JSON/);
  });
});
