/**
 * The guard against error classes in shipped code: every Lambda the components declare,
 * for both stacks, is read back as the exact text CallbackFunction ships (captured from
 * the function's code archive during a mock evaluation), and that text must not subclass
 * Error. Pulumi's closure serialiser turns such a class into a function whose instances
 * have no message or stack (see functions/errors.ts), so the Lambda runtime would report
 * them as errorType "object", errorMessage "[object Object]".
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { PROJECT_DIR, evaluateStack } from "../scripts/engine";
import { shippedText } from "./support/shipped";
import { stageValue } from "./support/stack";

/**
 * Classes in serialised text that extend an Error class. A class the handler captures is
 * rewritten as a function: `class A extends B` becomes `Object.setPrototypeOf(__fA, <B>)`,
 * B being `global.Error` (under jest `global.global.Error`), another error class, or a
 * serialised function, so chains are followed. A class declared inside a function's body
 * stays as written (`class A extends Error`) and is flagged too: the rule is simply that
 * shipped code builds errors with functions/errors.ts.
 */
export function errorSubclassesIn(text: string): string[] {
  const isErrorClass = (name: string) => /^(?:global\.)*\w*Error$/.test(name);
  const parents = new Map([...text.matchAll(/Object\.setPrototypeOf\((__[\w$]+), ([\w$.]+)\)/g)].map((match) => [match[1], match[2]]));
  const reachesError = (name: string, seen = new Set<string>()): boolean => {
    const parent = parents.get(name);
    if (parent === undefined || seen.has(name)) return false;
    return isErrorClass(parent) || reachesError(parent, seen.add(name));
  };
  const rewritten = [...parents.keys()].filter((name) => reachesError(name));
  const declared = [...text.matchAll(/\bclass\s+([\w$]+)\s+extends\s+([\w$.]+)/g)].filter((match) => isErrorClass(match[2])).map((match) => match[1]);
  return [...rewritten, ...declared];
}

class CapturedRefused extends Error {}
class CapturedForbidden extends CapturedRefused {}
class CapturedOdd extends TypeError {}

/** Every function's shipped `__index.js`, by logical name, as the program declares it for a stack. */
async function shippedLambdaTexts(stack: string): Promise<Map<string, string>> {
  const texts = new Map<string, Promise<string>>();
  await evaluateStack(stack, {
    program: () => {
      pulumi.runtime.registerStackTransformation((args) => {
        if (args.type === "aws:lambda/function:Function") {
          const code = args.props.code as pulumi.Output<pulumi.asset.AssetArchive>;
          texts.set(args.name, new Promise((resolve, reject) => {
            code.apply(async (archive) => {
              const assets = (await archive.assets) as Record<string, pulumi.asset.StringAsset>;
              const index = assets["__index.js"];
              if (index === undefined) reject(new Error(`${args.name} ships no __index.js`));
              else resolve(await index.text);
            });
          }));
        }
        return undefined;
      });
      const program = require(path.join(PROJECT_DIR, "index"));
      return (typeof program === "function" ? program : program.default)();
    },
  });
  return new Map(await Promise.all([...texts].map(async ([name, text]) => [name, await text] as const)));
}

describe("the guard itself", () => {
  it("finds captured classes that extend Error, directly or through another class, and ones declared in the handler", async () => {
    const factory = () => {
      class Local extends RangeError {}
      return () => [new CapturedForbidden("x"), new CapturedOdd("y"), new Local("z")];
    };
    expect(errorSubclassesIn(await shippedText(factory))).toHaveLength(4);
  });

  it("passes errors built as plain Error objects", async () => {
    const factory = () => () => Object.assign(new Error("x"), { name: "Refused" });
    expect(errorSubclassesIn(await shippedText(factory))).toEqual([]);
  });
});

describe.each(["dev", "prod"])("%s stack: shipped Lambda code", (stack) => {
  let texts: Map<string, string>;
  beforeAll(async () => {
    texts = await shippedLambdaTexts(stack);
  });

  it("reads back every function the components declare", () => {
    expect([...texts.keys()].sort()).toEqual(
      [
        // The Lambda reporting API exists only on a stage without the ECS services (tests/cache-layer.test.ts ships it).
        ...(stageValue(stack, "servicesEnabled", "false") === "true" ? [] : [`dp-${stack}-cache-reporting-fn`]),
        // The batch pipeline's reporting load (tests/batch-workflow.test.ts ships it).
        `dp-${stack}-batch-pipeline-reporting-load-fn`,
        `dp-${stack}-ingestion-ingest-front-fn`,
        `dp-${stack}-ingestion-queue-consumer-fn`,
        `dp-${stack}-ingestion-stream-consumer-fn`,
        `dp-${stack}-ingestion-stream-dedup-fn`,
        `dp-${stack}-lake-staging-fn`,
        `dp-${stack}-lake-transform-fn`,
        `dp-${stack}-warehouse-loader-fn`,
        // Restore tests (and their validator) run where the stage enables them.
        ...(stageValue(stack, "restoreTestingEnabled", "false") === "true" ? [`dp-${stack}-restore-tests-validator-fn`] : []),
      ].sort(),
    );
    for (const text of texts.values()) expect(text).toContain("exports.handler");
  });

  it("subclasses Error nowhere", () => {
    const offenders = [...texts].map(([name, text]) => [name, errorSubclassesIn(text)] as const).filter(([, classes]) => classes.length > 0);
    expect(offenders).toEqual([]);
  });
});
