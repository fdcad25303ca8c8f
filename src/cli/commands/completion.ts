/** `skyclaw completion bash|zsh|fish`: prints a completion script built from the command tree itself. */
import { defineCommand, type CommandDef } from "citty";
import { VERSION } from "../../version";
import { commandTree } from "../command-tree";
import { completionScript, SHELLS, type Shell } from "../completion-scripts";
import { UsageError } from "../errors";
import { writeOut } from "../output";

/** Takes the root command: the script covers every command, this one included. */
export function completionCommand(root: CommandDef<any>) {
  return defineCommand({
    meta: { name: "completion", description: "Print a shell completion script (bash, zsh or fish)" },
    args: { shell: { type: "positional", required: true, valueHint: "bash|zsh|fish", description: "The shell: bash, zsh or fish" } },
    async run({ args }) {
      if (!(SHELLS as readonly string[]).includes(args.shell)) {
        throw new UsageError(`unknown shell "${args.shell}": use bash, zsh or fish`);
      }
      await writeOut(completionScript(args.shell as Shell, await commandTree(root), VERSION));
      return 0;
    },
  });
}
