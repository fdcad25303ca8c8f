/**
 * Signal handling of a running host (`skyclaw host`, `skyclaw dev`): the first SIGTERM drains
 * (stop claiming, finish running jobs), a second SIGTERM or any SIGINT stops running jobs now.
 * The handlers are installed before the host starts, so a signal that arrives while it is
 * still registering is acted on once it is up instead of killing the process.
 * Resolves, when the host has stopped, with why it stopped.
 */
import type { HostStopCause, RunningHost } from "../host/daemon";

export async function runHostUntilStopped(
  start: () => Promise<RunningHost>,
  log: (line: string) => void,
  onStarted: (host: RunningHost) => void = () => {},
): Promise<HostStopCause> {
  let host: RunningHost | undefined;
  let draining = false;
  let stoppingNow = false;
  const report = (what: string) => (error: unknown) => log(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  const shutdownNow = () => {
    stoppingNow = true;
    log("stopping running jobs now");
    host?.shutdownNow().catch(report("shutdown"));
  };
  const onTerm = () => {
    if (draining) return shutdownNow();
    draining = true;
    log("draining: finishing running jobs, claiming no more (SIGTERM again or SIGINT to stop them now)");
    host?.drain().catch(report("drain"));
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", shutdownNow);
  try {
    host = await start();
    onStarted(host);
    if (stoppingNow) host.shutdownNow().catch(report("shutdown"));
    else if (draining) host.drain().catch(report("drain"));
    return await host.stopped;
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", shutdownNow);
  }
}
