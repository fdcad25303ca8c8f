import { defineCommand } from "citty";
import { UsageError } from "../errors";
import type { CliData } from "../runner";
import { takesJobArgv } from "../runner";
import { commonEnqueueFields, enqueueFlags, submitJob } from "./enqueue-common";

export const enqueueShellCommand = takesJobArgv(
  defineCommand({
    meta: {
      name: "enqueue-shell",
      description:
        "Queue a shell job: [OPTIONS] [--] <command> [args…]; options go before the command, the rest is the job's argv as is",
    },
    args: {
      ...enqueueFlags,
      command: { type: "positional", required: false, description: "Program to run on a host (must be in the host's SKYCLAW_ALLOWED_COMMANDS)" },
      args: { type: "positional", required: false, description: "Its arguments, passed as they are (e.g. -lc \"echo hi\")" },
    },
    async run({ args, data }) {
      const { argv } = data as CliData;
      const [command, ...commandArgs] = argv;
      if (command === undefined) throw new UsageError('missing <command> (e.g. skyclaw enqueue-shell bash -lc "echo hi")');
      return submitJob(
        { kind: "shell", command, ...(commandArgs.length > 0 && { args: commandArgs }), ...commonEnqueueFields(args, data as CliData) },
        args,
      );
    },
  }),
);
