/**
 * CI's share of the Raft simulation: a few hundred seeds, alternating 3 and 5 nodes. A failure
 * names the seed and the command that replays it exactly.
 */
import { describe, expect, test } from "bun:test";
import { nodeCountForSeed } from "./seeds";
import { runSimulation, SimulationFailure } from "./simulation";

const SEEDS_PER_BATCH = 50;
const BATCHES = 8;

describe("raft simulation", () => {
  for (let batch = 0; batch < BATCHES; batch++) {
    const first = batch * SEEDS_PER_BATCH + 1;
    const last = first + SEEDS_PER_BATCH - 1;
    test(`seeds ${first}..${last} keep every safety property and lose no acknowledged proposal`, () => {
      const failures: string[] = [];
      let acknowledged = 0;
      for (let seed = first; seed <= last; seed++) {
        try {
          acknowledged += runSimulation({ seed, nodeCount: nodeCountForSeed(seed) }).acknowledged;
        } catch (error) {
          failures.push(error instanceof SimulationFailure ? error.message : String(error));
        }
      }
      expect(failures).toEqual([]);
      expect(acknowledged).toBeGreaterThan(0);
    });
  }

  test("a seed replays exactly", () => {
    const trace = (seed: number) => {
      const lines: string[] = [];
      const report = runSimulation({ seed, nodeCount: 5, trace: (line) => lines.push(line) });
      return { lines, report };
    };
    const first = trace(7);
    const second = trace(7);
    expect(second.lines).toEqual(first.lines);
    expect(second.report).toEqual(first.report);
    expect(first.lines.length).toBeGreaterThan(10);
  });
});
