/**
 * Runs the Raft simulation for many seeds: `bun run sim --seeds 1000` (from seed 1, alternating 3
 * and 5 nodes), or replays one: `bun run sim --seed 42 --nodes 5 --trace`.
 */
import { parseArgs } from "node:util";
import { nodeCountForSeed } from "./seeds";
import { runSimulation, SimulationFailure } from "./simulation";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "100" },
    from: { type: "string", default: "1" },
    seed: { type: "string" },
    nodes: { type: "string" },
    trace: { type: "boolean", default: false },
  },
  strict: true,
});

function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const fixedNodes = values.nodes === undefined ? undefined : positiveInteger("nodes", values.nodes);
if (fixedNodes !== undefined && fixedNodes !== 3 && fixedNodes !== 5) {
  console.error(`--nodes must be 3 or 5, got ${fixedNodes}`);
  process.exit(2);
}
const seeds =
  values.seed !== undefined
    ? [positiveInteger("seed", values.seed)]
    : Array.from({ length: positiveInteger("seeds", values.seeds!) }, (_, i) => positiveInteger("from", values.from!) + i);

const startedMs = performance.now();
let failures = 0;
const totals = { proposals: 0, acknowledged: 0, readsConfirmed: 0, crashes: 0, snapshotsInstalled: 0, membershipChanges: 0, transfers: 0, highestTerm: 0 };
for (const seed of seeds) {
  const nodeCount = fixedNodes ?? nodeCountForSeed(seed);
  try {
    const report = runSimulation({ seed, nodeCount, trace: values.trace ? (line) => console.log(line) : undefined });
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) {
      totals[key] = key === "highestTerm" ? Math.max(totals[key], report[key]) : totals[key] + report[key];
    }
    if (seeds.length === 1) console.log(JSON.stringify(report, null, 2));
  } catch (error) {
    failures++;
    console.error(error instanceof SimulationFailure ? error.message : error);
  }
}
const elapsedMs = Math.round(performance.now() - startedMs);
console.log(`${seeds.length - failures}/${seeds.length} seeds passed in ${elapsedMs} ms; totals ${JSON.stringify(totals)}`);
process.exit(failures === 0 ? 0 : 1);
