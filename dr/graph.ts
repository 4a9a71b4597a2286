/**
 * Orders steps into waves: a step joins the first wave after every step it depends on,
 * so the steps of one wave have no ordering between them and may run in parallel.
 */
import { PlanStep } from "./model";

export function parallelWaves(steps: readonly PlanStep[]): string[][] {
  const ids = new Set(steps.map((step) => step.id));
  if (ids.size !== steps.length) throw new Error(`Duplicate step ids in the plan: ${steps.map((step) => step.id).filter((id, i, all) => all.indexOf(id) !== i).join(", ")}`);
  const wave = new Map<string, number>();
  const visiting = new Set<string>();
  const byId = new Map(steps.map((step) => [step.id, step]));
  const depth = (id: string): number => {
    const known = wave.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) throw new Error(`The plan's dependencies form a cycle through ${id}`);
    visiting.add(id);
    const dependencies = byId.get(id)!.dependsOn;
    const value = dependencies.length === 0 ? 0 : Math.max(...dependencies.map(depth)) + 1;
    visiting.delete(id);
    wave.set(id, value);
    return value;
  };
  for (const step of steps) {
    for (const dependency of step.dependsOn) {
      if (!ids.has(dependency)) throw new Error(`Step ${step.id} depends on unknown step ${dependency}`);
    }
  }
  const waves: string[][] = [];
  for (const step of steps) (waves[depth(step.id)] ??= []).push(step.id);
  return waves.filter((ids) => ids !== undefined);
}

/** The waves restricted to the steps `keep` accepts, empty waves dropped. */
export function wavesOf(waves: readonly string[][], keep: (id: string) => boolean): string[][] {
  return waves.map((ids) => ids.filter(keep)).filter((ids) => ids.length > 0);
}
