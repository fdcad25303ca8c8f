/** The role secrets in the coordinator's config: SKYCLAW_PUBLIC_API_KEYS parsing and when auth is on. */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadCoordinatorConfig } from "../../src/config";

const load = (env: Record<string, string>) => loadCoordinatorConfig({ SKYCLAW_DB_PATH: "/tmp/unused.db", ...env });

describe("SKYCLAW_PUBLIC_API_KEYS", () => {
  test("parses key:label:cap1|cap2[:shell] entries", () => {
    const { auth } = load({ SKYCLAW_PUBLIC_API_KEYS: "key-aaaaaaaa:ci:gpu|arm64:shell, key-bbbbbbbb:web:" });
    expect(auth.submitKeys).toEqual([
      { key: "key-aaaaaaaa", label: "ci", capabilities: ["arm64", "gpu"], shell: true },
      { key: "key-bbbbbbbb", label: "web", capabilities: [], shell: false },
    ]);
    expect(auth.enabled).toBe(true);
  });

  test.each([
    ["key-aaaaaaaa:ci", "key:label:cap1|cap2[:shell]"],
    ["short:ci:gpu", "at least 8 characters"],
    ["key-aaaaaaaa:c i:gpu", "label"],
    ["key-aaaaaaaa:ci:GPU", "not a capability name"],
    ["key-aaaaaaaa:ci:gpu:root", '"shell"'],
    ["key-aaaaaaaa:ci:gpu,key-aaaaaaaa:cd:gpu", "repeats the key"],
    ["key-aaaaaaaa:ci:gpu,key-bbbbbbbb:ci:gpu", 'repeats the label "ci"'],
  ])("refuses %p naming the variable, and never echoes the key", (value, message) => {
    let error: unknown;
    try {
      load({ SKYCLAW_PUBLIC_API_KEYS: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe("SKYCLAW_PUBLIC_API_KEYS");
    expect((error as ConfigError).message).toContain(message);
    expect((error as ConfigError).message).not.toContain("key-aaaaaaaa");
  });
});

describe("auth on or off", () => {
  test("with no secret at all a loopback coordinator is open", () => {
    expect(load({}).auth.enabled).toBe(false);
  });

  test("any one scoped secret turns auth on and lets the coordinator bind beyond loopback", () => {
    for (const variable of ["SKYCLAW_ADMIN_TOKEN", "SKYCLAW_PEER_TOKEN", "SKYCLAW_HOST_JOIN_TOKEN"]) {
      const config = load({ SKYCLAW_COORDINATOR_HOST: "0.0.0.0", [variable]: "some-secret" });
      expect(config.auth.enabled).toBe(true);
    }
  });
});
