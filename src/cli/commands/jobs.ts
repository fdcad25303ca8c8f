/** `skyclaw jobs list|get|cancel|logs`: reading and steering jobs. */
import { defineCommand } from "citty";
import { JOB_STATES } from "../../api";
import { cliClient } from "../cli-client";
import { integerFlag } from "../flag-values";
import { followOutput } from "../follow-output";
import { jobDetails, jobsTable, json } from "../format";
import { writeErr, writeOut } from "../output";

const jsonFlag = { json: { type: "boolean", description: "Print JSON" } } as const;
const jobId = { id: { type: "positional", required: true, description: "Job id" } } as const;

const listCommand = defineCommand({
  meta: { name: "list", description: "List jobs, newest first" },
  args: {
    state: { type: "enum", options: [...JOB_STATES], description: "Only jobs in this state" },
    limit: { type: "string", valueHint: "n", description: "Jobs per page, 1..500 (default 50)" },
    cursor: { type: "string", valueHint: "cursor", description: "Continue from the cursor a previous page printed" },
    ...jsonFlag,
  },
  async run({ args }) {
    const page = await cliClient().listJobs({
      state: args.state,
      limit: integerFlag(args.limit, "--limit", 1, 500),
      cursor: args.cursor,
    });
    if (args.json) {
      await writeOut(`${json(page)}\n`);
      return 0;
    }
    await writeOut(page.jobs.length === 0 ? "no jobs\n" : `${jobsTable(page.jobs)}\n`);
    if (page.nextCursor !== null) await writeErr(`more: skyclaw jobs list --cursor ${page.nextCursor}\n`);
    return 0;
  },
});

const getCommand = defineCommand({
  meta: { name: "get", description: "Show one job" },
  args: { ...jobId, ...jsonFlag },
  async run({ args }) {
    const job = await cliClient().getJob(args.id);
    await writeOut(`${args.json ? json(job) : jobDetails(job)}\n`);
    return 0;
  },
});

const cancelCommand = defineCommand({
  meta: { name: "cancel", description: "Cancel a job: a queued job at once, a running one when its host stops it" },
  args: { ...jobId, reason: { type: "string", valueHint: "text", description: "Why, recorded on the job" }, ...jsonFlag },
  async run({ args }) {
    const job = await cliClient().cancelJob(args.id, args.reason);
    if (args.json) await writeOut(`${json(job)}\n`);
    else if (job.state === "cancelled") await writeOut(`${job.id}: cancelled\n`);
    else await writeOut(`${job.id}: cancel requested; host ${job.hostId ?? "?"} will stop it\n`);
    return 0;
  },
});

const logsCommand = defineCommand({
  meta: { name: "logs", description: "Print a job's output (stdout to stdout, stderr to stderr)" },
  args: { ...jobId, follow: { type: "boolean", alias: "f", description: "Keep printing new output until the job finishes" } },
  async run({ args }) {
    await followOutput(cliClient(), args.id, { follow: args.follow === true });
    return 0;
  },
});

export const jobsCommand = defineCommand({
  meta: { name: "jobs", description: "List, inspect, cancel jobs and read their output" },
  subCommands: { list: listCommand, get: getCommand, cancel: cancelCommand, logs: logsCommand },
});
