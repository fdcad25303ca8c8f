/**
 * The real OpenClaw CLI runs one agent turn against the stub Ollama server and prints its JSON
 * envelope: the contract a Skyclaw host relies on for OpenClaw jobs, checked without a host.
 */
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import type { Subprocess } from "bun";
import { childEnv, tempDir } from "../helpers/processes";
import { STUB_OLLAMA_OUTPUT_TOKENS, STUB_OLLAMA_PROMPT_TOKENS } from "../fixtures/stub-ollama";
import { openclawForTests } from "./openclaw-env";

/** One turn takes ~10 s on a 2-core machine, most of it OpenClaw's own start-up. */
const TURN_TIMEOUT_MS = 120_000;

const openclaw = await openclawForTests();
const available = !("unavailable" in openclaw);
if ("unavailable" in openclaw) console.warn(`SKIPPING the real-OpenClaw CLI test: ${openclaw.unavailable}`);

const children: Subprocess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map((child) => child.exited));
  if (!("unavailable" in openclaw)) await openclaw.stub.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!available)(
  "`openclaw agent exec <message> --json --model ollama/…` answers with the stub's reply in an ok envelope",
  async () => {
    if ("unavailable" in openclaw) throw new Error(openclaw.unavailable);
    // OpenClaw keeps caches and state under HOME; keep the developer's own out of it.
    const home = tempDir("skyclaw-openclaw-home-");
    dirs.push(home);
    const child = Bun.spawn([openclaw.command, "agent", "exec", "say hi", "--json", "--model", openclaw.model], {
      env: childEnv({ ...openclaw.env, HOME: home }),
      cwd: home,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: TURN_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    children.push(child);
    const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);

    expect({ exitCode, stderr: exitCode === 0 ? "" : stderr }).toEqual({ exitCode: 0, stderr: "" });
    const envelope = JSON.parse(stdout);
    expect(envelope).toMatchObject({
      ok: true,
      status: "ok",
      provider: "ollama",
      model: openclaw.model.slice("ollama/".length),
      usage: { input: STUB_OLLAMA_PROMPT_TOKENS, output: STUB_OLLAMA_OUTPUT_TOKENS },
    });
    expect(envelope.final).toContain(openclaw.reply);
    expect(openclaw.stub.requests.map((request) => `${request.method} ${request.path}`)).toContain("POST /api/chat");
  },
  TURN_TIMEOUT_MS + 30_000,
);
