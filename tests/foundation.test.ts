import { StageConfigError } from "../config";
import { MOCK_ACCOUNT_ID, StackEvaluation, ofType } from "../scripts/engine";
import { evaluate, policyOf, single } from "./support/stack";

describe.each(["dev", "prod"])("%s stack foundation", (stack) => {
  let plan: StackEvaluation;
  beforeAll(async () => {
    plan = await evaluate(stack);
  });

  it("evaluates without errors or warnings", () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });
});

describe("repeat evaluation", () => {
  it("gives the same graph twice in one process", async () => {
    const first = await evaluate("dev");
    const second = await evaluate("dev");
    expect(second.resources.map((r) => r.urn)).toEqual(first.resources.map((r) => r.urn));
    expect(first.resources.length).toBeGreaterThan(10);
    expect(MOCK_ACCOUNT_ID).toBe("123456789012");
    expect(ofType(first, "aws:kms/key:Key")).toHaveLength(2);
    expect(policyOf(single(first, "aws:kms/key:Key", "-logs")).Statement.length).toBe(2);
  });

  it("refuses a bad config before declaring anything", async () => {
    await expect(evaluate("prod", { azCount: 1 })).rejects.toBeInstanceOf(StageConfigError);
  });
});
