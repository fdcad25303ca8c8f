/**
 * install.sh end to end. The release code builds this machine's binary, SHA256SUMS and install.sh
 * into a temp folder; a Bun server on 127.0.0.1 serves it (and tampered variants), and
 * `curl -fsSL …/install.sh | sh` runs with a fresh HOME from inside a source checkout, where it
 * must still download rather than build.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json";
import { assetName, buildRelease, type ReleaseTarget } from "../../src/release/build-release";
import { childEnv, REPO_ROOT, tempDir } from "../helpers/processes";

setDefaultTimeout(30_000);

/** The target install.sh picks on this machine (same rules: OS, arch, musl, AVX2). */
function hostReleaseTarget(): ReleaseTarget {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  if (process.platform === "darwin") return `darwin-${arch}`;
  if (arch === "arm64") return "linux-arm64";
  if (existsSync("/etc/alpine-release")) return "linux-x64-musl";
  return /\bavx2\b/.test(readFileSync("/proc/cpuinfo", "utf8")) ? "linux-x64" : "linux-x64-baseline";
}

const asset = assetName(hostReleaseTarget());
const scratch: string[] = [];
let releaseDir: string;
let checkoutDir: string;
let baseUrl: string;
let server: ReturnType<typeof Bun.serve>;

function scratchDir(prefix: string): string {
  const dir = tempDir(prefix);
  scratch.push(dir);
  return dir;
}

beforeAll(async () => {
  releaseDir = scratchDir("skyclaw-release-");
  await buildRelease({ outDir: releaseDir, targets: [hostReleaseTarget()] });
  const released = new Set(readdirSync(releaseDir));

  const tamperedBinary = new Uint8Array(await Bun.file(join(releaseDir, asset)).arrayBuffer());
  tamperedBinary[tamperedBinary.length >> 1]! ^= 0xff;
  const sums = readFileSync(join(releaseDir, "SHA256SUMS"), "utf8");
  const assetLine = new RegExp(`^([0-9a-f])([0-9a-f]{63})  ${asset}$`, "m");
  expect(sums).toMatch(assetLine);
  const tamperedSums = sums.replace(assetLine, (_line, first: string, rest: string) => `${first === "0" ? "1" : "0"}${rest}  ${asset}`);

  // /<variant>/<file>: "good" is the release as built; the others change one thing.
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const [, variant, name = ""] = new URL(request.url).pathname.split("/");
      if (!released.has(name)) return new Response("not found", { status: 404 });
      if (variant === "tampered-binary" && name === asset) return new Response(tamperedBinary);
      if (variant === "tampered-sums" && name === "SHA256SUMS") return new Response(tamperedSums);
      if (variant === "missing-asset" && name === asset) return new Response("not found", { status: 404 });
      if (!["good", "tampered-binary", "tampered-sums", "missing-asset"].includes(variant!)) return new Response("not found", { status: 404 });
      return new Response(Bun.file(join(releaseDir, name)));
    },
  });
  baseUrl = `http://127.0.0.1:${server.port}`;

  // A copy of the source checkout, so a build from source never touches the real repo's dist/.
  checkoutDir = scratchDir("skyclaw-checkout-");
  for (const entry of ["src", "package.json", "bun.lock", "bunfig.toml", "tsconfig.json", "install.sh"]) {
    cpSync(join(REPO_ROOT, entry), join(checkoutDir, entry), { recursive: true });
  }
}, 120_000);

afterAll(() => {
  server?.stop(true);
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], options: { cwd: string; env: Record<string, string> }) {
  const child = Bun.spawn(argv, { cwd: options.cwd, env: childEnv(options.env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, exitCode };
}

/** `curl -fsSL <server>/good/install.sh | sh` in the checkout copy, with a fresh HOME. */
async function pipedInstall(downloadUrl: string | undefined) {
  const home = scratchDir("skyclaw-home-");
  const env: Record<string, string> = { HOME: home };
  if (downloadUrl) env.SKYCLAW_DOWNLOAD_URL = downloadUrl;
  const result = await run(["sh", "-c", `curl -fsSL ${baseUrl}/good/install.sh | sh`], { cwd: checkoutDir, env });
  return { ...result, home, installRoot: join(home, ".skyclaw") };
}

describe("curl … | sh from a release", () => {
  test("downloads this machine's binary, verifies it, installs it to ~/.skyclaw/bin and prints the PATH line", async () => {
    const install = await pipedInstall(`${baseUrl}/good`);
    expect(install.stderr).toContain(`downloading ${asset} from ${baseUrl}/good`);
    expect(install.exitCode).toBe(0);
    const binary = join(install.installRoot, "bin", "skyclaw");
    expect(install.stderr).toContain(`installed ${binary} (${pkg.version})`);
    expect(install.stderr).toContain(`export PATH="${join(install.installRoot, "bin")}:$PATH"`);
    expect(readdirSync(join(install.installRoot, "bin"))).toEqual(["skyclaw"]);
    expect(Bun.file(binary).size).toBe(Bun.file(join(releaseDir, asset)).size);
    expect(existsSync(join(checkoutDir, "dist"))).toBe(false);

    const version = await run([binary, "--version"], { cwd: install.home, env: {} });
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  test("a binary with one byte changed is refused with a checksum mismatch, and nothing is installed", async () => {
    const install = await pipedInstall(`${baseUrl}/tampered-binary`);
    expect(install.exitCode).not.toBe(0);
    expect(install.stderr).toContain(`skyclaw install: checksum mismatch for ${asset}`);
    expect(install.stderr).toContain("nothing was installed");
    expect(existsSync(install.installRoot)).toBe(false);
  });

  test("a SHA256SUMS with a wrong digest is refused with a checksum mismatch, and nothing is installed", async () => {
    const install = await pipedInstall(`${baseUrl}/tampered-sums`);
    expect(install.exitCode).not.toBe(0);
    expect(install.stderr).toContain(`skyclaw install: checksum mismatch for ${asset}`);
    expect(existsSync(install.installRoot)).toBe(false);
  });

  test("a release without this machine's binary fails naming the URL, and nothing is installed", async () => {
    const install = await pipedInstall(`${baseUrl}/missing-asset`);
    expect(install.exitCode).not.toBe(0);
    expect(install.stderr).toContain(`skyclaw install: could not download ${baseUrl}/missing-asset/${asset}`);
    expect(existsSync(install.installRoot)).toBe(false);
  });

  test("piped inside a checkout without SKYCLAW_DOWNLOAD_URL, it asks for one instead of building", async () => {
    const install = await pipedInstall(undefined);
    expect(install.exitCode).not.toBe(0);
    expect(install.stderr).toContain("skyclaw install: set SKYCLAW_DOWNLOAD_URL");
    expect(existsSync(install.installRoot)).toBe(false);
    expect(existsSync(join(checkoutDir, "dist"))).toBe(false);
  });
});

describe("sh install.sh from a source checkout", () => {
  test("builds from source and installs into SKYCLAW_INSTALL/bin", async () => {
    const installRoot = join(scratchDir("skyclaw-install-"), "root");
    const elsewhere = scratchDir("skyclaw-cwd-");
    const install = await run(["sh", join(checkoutDir, "install.sh")], { cwd: elsewhere, env: { SKYCLAW_INSTALL: installRoot } });
    const binary = join(installRoot, "bin", "skyclaw");
    expect(install.stderr).toContain(`built and installed ${binary} (${pkg.version})`);
    expect(install.exitCode).toBe(0);
    expect(existsSync(join(checkoutDir, "dist", "skyclaw"))).toBe(true);

    const version = await run([binary, "--version"], { cwd: elsewhere, env: {} });
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});
