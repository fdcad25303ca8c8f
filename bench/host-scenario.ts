/**
 * One run of the host benchmarks: a fresh coordinator and a real `skyclaw host` process, the
 * host's RSS once it has been registered and idle (parked in its claim long-poll) for
 * `idleMs`, then dispatch latency job by job, then its RSS again, idle after those jobs.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startBenchCoordinator } from "./coordinator-process";
import { runDispatchLatency, type DispatchResult } from "./dispatch-latency";
import { startBenchHost } from "./host-process";
import type { JobClock } from "./job-clock";

export interface HostScenarioOptions {
  /** Short label, also used for the coordinator's and the host's directories. */
  label: string;
  /** Compiled `skyclaw` to run; absent = `bun src/cli/main.ts host`. */
  binary?: string;
  clock: JobClock;
  workDir: string;
  idleMs: number;
  jobs: number;
  warmupJobs: number;
  idleGapMs: number;
}

export interface HostScenarioResult {
  idleRssBytes: number;
  rssAfterJobsBytes: number;
  dispatch: DispatchResult;
}

export async function runHostScenario(options: HostScenarioOptions): Promise<HostScenarioResult> {
  const stateDir = join(options.workDir, `host-${options.label}`);
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  const coordinator = await startBenchCoordinator(`host-${options.label}`);
  try {
    const host = await startBenchHost({
      coordinatorUrl: coordinator.url,
      ...(options.binary !== undefined && { binary: options.binary }),
      name: `bench-${options.label}`,
      stateDir,
      allowedCommands: [options.clock.executable],
    });
    try {
      // Idle means nothing to do for a while: there is no event for "settled", so wait it out.
      await Bun.sleep(options.idleMs);
      const idleRssBytes = host.rssBytes();
      const dispatch = await runDispatchLatency(coordinator.url, {
        jobs: options.jobs,
        warmupJobs: options.warmupJobs,
        idleGapMs: options.idleGapMs,
        clock: options.clock,
        hostCpuSeconds: host.cpuSeconds,
      });
      await Bun.sleep(options.idleMs);
      return { idleRssBytes, rssAfterJobsBytes: host.rssBytes(), dispatch };
    } finally {
      await host.stop();
    }
  } finally {
    await coordinator.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
