/**
 * Every route of the coordinator, read from the app itself (with its body and query schemas),
 * so a route added later is fuzzed without a change here.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCoordinatorConfig } from "../../src/config";
import { createApp } from "../../src/coordinator/app";
import { CoordinatorNode } from "../../src/coordinator/node";
import type { FuzzRoute } from "./request-generator";
import type { JsonSchema } from "./schema-values";

export function coordinatorRoutes(): FuzzRoute[] {
  const dir = mkdtempSync(join(tmpdir(), "skyclaw-fuzz-routes-"));
  const node = new CoordinatorNode(loadCoordinatorConfig({ SKYCLAW_DB_PATH: join(dir, "routes.db"), SKYCLAW_COORDINATOR_PORT: "0" }));
  try {
    return createApp(node).routes.map((route) => {
      const hooks = route.hooks as { body?: JsonSchema; query?: JsonSchema } | undefined;
      return {
        method: route.method,
        path: route.path,
        ...(hooks?.body !== undefined && { body: hooks.body }),
        ...(hooks?.query !== undefined && { query: hooks.query }),
      };
    });
  } finally {
    node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
