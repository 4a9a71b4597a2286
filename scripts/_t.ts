import { evaluateStack } from "./engine";
(async () => {
  const fast = process.argv.includes("--fast");
  const saved = Error.prepareStackTrace;
  if (fast) { Error.prepareStackTrace = (e: Error) => `${e.name}: ${e.message}`; }
  const t1 = Date.now();
  await evaluateStack("prod");
  console.log("eval1", Date.now() - t1);
  const t2 = Date.now();
  await evaluateStack("prod");
  console.log("eval2", Date.now() - t2);
  Error.prepareStackTrace = saved;
})();
