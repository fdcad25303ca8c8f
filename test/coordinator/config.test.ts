/** Coordinator start-up configuration: refusals name the variable at fault. */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadCoordinatorConfig } from "../../src/config";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadCoordinatorConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("a coordinator bound to a non-loopback address", () => {
  test.each(["0.0.0.0", "192.168.1.10", "::", "example.com"])("on %s refuses to start without SKYCLAW_TOKEN", (host) => {
    const error = configError({ SKYCLAW_COORDINATOR_HOST: host });
    expect(error.variable).toBe("SKYCLAW_TOKEN");
    expect(error.message).toContain("SKYCLAW_TOKEN");
    expect(error.message).toContain(host);
  });

  test("starts with a token", () => {
    const config = loadCoordinatorConfig({ SKYCLAW_COORDINATOR_HOST: "0.0.0.0", SKYCLAW_TOKEN: "s3cret" });
    expect(config.host).toBe("0.0.0.0");
    expect(config.token).toBe("s3cret");
  });

  test.each(["127.0.0.1", "localhost", "::1", "127.0.0.2"])("loopback %s needs no token", (host) => {
    expect(loadCoordinatorConfig({ SKYCLAW_COORDINATOR_HOST: host }).token).toBeUndefined();
  });
});

describe("bad values are start-up errors naming the variable", () => {
  const cases: [string, string][] = [
    ["SKYCLAW_LEASE_MS", "abc"],
    ["SKYCLAW_LEASE_MS", "1.5"],
    ["SKYCLAW_LEASE_MS", "10"],
    ["SKYCLAW_HEARTBEAT_MS", "-1"],
    ["SKYCLAW_CLAIM_WAIT_MS", "soon"],
    ["SKYCLAW_HOST_TIMEOUT_MS", "1e3"],
    ["SKYCLAW_COORDINATOR_PORT", "70000"],
    ["SKYCLAW_COORDINATOR_PORT", "http"],
    ["SKYCLAW_IDEMPOTENCY_TTL_MS", "0"],
    ["SKYCLAW_MAX_BODY_BYTES", "12kb"],
    ["SKYCLAW_MAX_OUTPUT_BYTES", "lots"],
    ["SKYCLAW_MIN_REPLICATIONS", "0"],
    ["SKYCLAW_PEER_URLS", "ftp://peer:1"],
    ["SKYCLAW_PEER_URLS", "not a url"],
  ];
  test.each(cases)("%s=%s", (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toStartWith(`${variable}: `);
  });

  test("a heartbeat longer than half the lease is refused", () => {
    const error = configError({ SKYCLAW_LEASE_MS: "1000", SKYCLAW_HEARTBEAT_MS: "600" });
    expect(error.variable).toBe("SKYCLAW_HEARTBEAT_MS");
    expect(error.message).toContain("SKYCLAW_LEASE_MS");
  });

  test("more required replications than nodes is refused", () => {
    const error = configError({ SKYCLAW_MIN_REPLICATIONS: "3", SKYCLAW_PEER_URLS: "http://127.0.0.1:9001" });
    expect(error.variable).toBe("SKYCLAW_MIN_REPLICATIONS");
  });
});

test("the short timings the tests use are accepted and read as numbers", () => {
  const config = loadCoordinatorConfig({
    SKYCLAW_COORDINATOR_PORT: "0",
    SKYCLAW_LEASE_MS: "1000",
    SKYCLAW_HEARTBEAT_MS: "100",
    SKYCLAW_CLAIM_WAIT_MS: "2000",
  });
  expect(config.port).toBe(0);
  expect(config.timings).toEqual({ leaseMs: 1000, heartbeatMs: 100, hostTimeoutMs: 1000, claimWaitMs: 2000 });
});
