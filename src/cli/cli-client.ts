/** The API client every client-side command uses, configured from SKYCLAW_COORDINATOR_URL(S)/SKYCLAW_TOKEN. */
import { SkyclawClient } from "../client/skyclaw-client";
import { loadClientConfig } from "../config";

export function cliClient(): SkyclawClient {
  return new SkyclawClient(loadClientConfig());
}
