import { defineCommand } from "citty";
import type { EnqueueBody } from "../../api";
import { UsageError } from "../errors";
import type { CliData } from "../runner";
import { takesJobArgv } from "../runner";
import { commonEnqueueFields, enqueueFlags, submitJob } from "./enqueue-common";

export const enqueueOpenclawCommand = takesJobArgv(
  defineCommand({
    meta: {
      name: "enqueue-openclaw",
      description:
        'Queue an OpenClaw job: [OPTIONS] [--] <openclaw args…>, or [OPTIONS] --message "…" to run the agent',
    },
    args: {
      ...enqueueFlags,
      message: { type: "string", valueHint: "text", description: "Run the OpenClaw agent on this message; --wait prints its final answer" },
      model: { type: "string", valueHint: "provider/model", description: "Model for the agent (with --message)" },
      thinking: { type: "string", valueHint: "level", description: "Thinking level for the agent (with --message)" },
      agent: { type: "string", valueHint: "id", description: "Agent id (with --message)" },
      args: { type: "positional", required: false, description: "Arguments for the host's openclaw command, passed as they are" },
    },
    async run({ args, data }) {
      const { argv } = data as CliData;
      const agentOptions = (["model", "thinking", "agent"] as const).filter((name) => args[name] !== undefined);
      if (args.message === undefined) {
        if (argv.length === 0) throw new UsageError('give openclaw arguments or --message "…" (see skyclaw enqueue-openclaw --help)');
        if (agentOptions.length > 0) throw new UsageError(`--${agentOptions[0]} only applies together with --message`);
      } else if (argv.length > 0) {
        throw new UsageError(`give either openclaw arguments or --message, not both (got "${argv[0]}")`);
      }
      const body: EnqueueBody = {
        kind: "openclaw",
        ...(argv.length > 0 && { args: argv }),
        message: args.message,
        model: args.model,
        thinking: args.thinking,
        agent: args.agent,
        ...commonEnqueueFields(args, data as CliData),
      };
      return submitJob(body, args);
    },
  }),
);
