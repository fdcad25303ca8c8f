/**
 * The nemesis: a seeded schedule of faults on a 3-coordinator cluster, one fault at a time
 * (in about a third of the rounds two overlapping, which can leave no majority for a while), each held for a random time and
 * then undone. Faults: kill -9 and restart, SIGSTOP then SIGCONT, isolating a node (every link
 * to and from it cut), and cutting one link one way. Half of the faults aim at the current
 * leader. The same seed gives the same choices; which node leads, and so what "the leader"
 * hits, still depends on process timing.
 */
import type { ClusterNode } from "./harness";
import type { LinkCuts } from "./nemesis-proxy";

/** mulberry32: small, seedable, good enough to choose faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface NemesisTarget {
  nodes: ClusterNode[];
  /** Raft id (proxy URL) of each node, same order as `nodes`. */
  ids: string[];
  cuts: LinkCuts;
  /** Restart a node (same files, same port, same identity). */
  start(index: number): Promise<void>;
  /** Index of the node that says it leads, or null (asks each running node, briefly). */
  leaderIndex(): Promise<number | null>;
}

export interface NemesisOptions {
  seed: number;
  durationMs: number;
  /** One line per action, with the time since the nemesis began. */
  log(line: string): void;
}

type Fault = "kill" | "pause" | "isolate" | "cut-one-way";
const FAULTS: Fault[] = ["kill", "pause", "isolate", "cut-one-way"];

export async function runNemesis(target: NemesisTarget, options: NemesisOptions): Promise<void> {
  const random = seededRandom(options.seed);
  const between = (low: number, high: number) => Math.floor(low + random() * (high - low));
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
  const startedAt = performance.now();
  const log = (line: string) => options.log(`+${((performance.now() - startedAt) / 1_000).toFixed(1)}s ${line}`);
  const name = (index: number) => `node-${index + 1}`;
  const paused = new Set<number>();

  const chooseNode = async (exclude: Set<number>): Promise<number> => {
    const candidates = target.nodes.map((_, index) => index).filter((index) => !exclude.has(index));
    const wantLeader = random() < 0.5;
    const leader = wantLeader ? await target.leaderIndex() : null;
    return leader !== null && candidates.includes(leader) ? leader : pick(candidates);
  };

  const inject = async (fault: Fault, busy: Set<number>): Promise<() => Promise<void>> => {
    const index = await chooseNode(busy);
    busy.add(index);
    const node = target.nodes[index]!;
    switch (fault) {
      case "kill": {
        if (!node.running) return async () => {};
        await node.kill9();
        log(`kill -9 ${name(index)}`);
        return async () => {
          await target.start(index);
          log(`restarted ${name(index)}`);
        };
      }
      case "pause": {
        if (!node.running) return async () => {};
        node.signal("SIGSTOP");
        paused.add(index);
        log(`SIGSTOP ${name(index)}`);
        return async () => {
          node.signal("SIGCONT");
          paused.delete(index);
          log(`SIGCONT ${name(index)}`);
        };
      }
      case "isolate": {
        const id = target.ids[index]!;
        for (const other of target.ids) {
          if (other === id) continue;
          target.cuts.cut(id, other);
          target.cuts.cut(other, id);
        }
        log(`isolated ${name(index)}`);
        return async () => {
          target.cuts.heal();
          log(`healed links`);
        };
      }
      case "cut-one-way": {
        const to = pick(target.nodes.map((_, other) => other).filter((other) => other !== index));
        target.cuts.cut(target.ids[index]!, target.ids[to]!);
        log(`cut ${name(index)} -> ${name(to)}`);
        return async () => {
          target.cuts.heal();
          log(`healed links`);
        };
      }
    }
  };

  try {
    while (performance.now() - startedAt < options.durationMs) {
      const busy = new Set<number>();
      const undo = [await inject(pick(FAULTS), busy)];
      if (random() < 0.3) {
        await Bun.sleep(between(200, 1_000));
        undo.push(await inject(pick(FAULTS), busy));
      }
      await Bun.sleep(between(800, 4_000));
      for (const step of undo.reverse()) await step();
      await Bun.sleep(between(300, 2_000));
    }
  } finally {
    target.cuts.heal();
    for (const index of paused) target.nodes[index]!.signal("SIGCONT");
    for (let index = 0; index < target.nodes.length; index++) if (!target.nodes[index]!.running) await target.start(index);
    log("healed everything");
  }
}
