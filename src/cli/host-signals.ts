/**
 * Signal handling of a running host (`skyclaw host`, `skyclaw dev`): the first SIGTERM drains
 * (stop claiming, finish running jobs), a second SIGTERM or any SIGINT stops running jobs now.
 * Resolves when the host has stopped.
 */
import type { RunningHost } from "../host/daemon";

export async function runHostUntilStopped(host: RunningHost, log: (line: string) => void): Promise<void> {
  let draining = false;
  const report = (what: string) => (error: unknown) => log(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  const shutdownNow = () => {
    log("stopping running jobs now");
    host.shutdownNow().catch(report("shutdown"));
  };
  const onTerm = () => {
    if (draining) return shutdownNow();
    draining = true;
    log("draining: finishing running jobs, claiming no more (SIGTERM again or SIGINT to stop them now)");
    host.drain().catch(report("drain"));
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", shutdownNow);
  try {
    await host.stopped;
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", shutdownNow);
  }
}
