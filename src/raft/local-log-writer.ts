/**
 * The log writer thread (a Bun Worker): owns the write connection and runs the LocalLog over the
 * StateMachine, so SQLite's CPU and the fsync that ends each commit stay off the event loop that
 * serves HTTP. It speaks the protocol of log-writer-protocol.ts; WorkerLog is its other end.
 */
import type { Database } from "bun:sqlite";
import { openDatabase } from "../db";
import type { Command, CommandResult } from "../state/commands";
import { StateMachine } from "../state/state-machine";
import { LocalLog } from "./local-log";
import type { FromLogWriter, ToLogWriter } from "./log-writer-protocol";

declare const self: Worker;

let db: Database | undefined;
let log: LocalLog<Command, CommandResult> | undefined;
/** Each proposed command's log index, recorded as its batch is applied (keyed by the command object itself). */
const indexOfCommand = new Map<Command, number>();
/** Batches proposed and not yet answered; close waits for them. */
const unanswered = new Set<Promise<void>>();

const send = (message: FromLogWriter<CommandResult>) => postMessage(message);

function open(dbPath: string): void {
  try {
    db = openDatabase(dbPath);
    log = new LocalLog<Command, CommandResult>(db, new StateMachine(db));
    log.onApplied((entries) => {
      for (const entry of entries) indexOfCommand.set(entry.command, entry.index);
    });
  } catch (error) {
    send({ type: "fatal", message: `the log writer could not open ${dbPath}: ${messageOf(error)}` });
  }
}

function propose(batchId: number, commands: Command[]): void {
  if (log === undefined) {
    send({ type: "rejected", batchId, message: "the log writer has no open database" });
    return;
  }
  const answered = Promise.all(commands.map((command) => log!.propose(command))).then(
    (results) => {
      const indexes = commands.map((command) => indexOfCommand.get(command)!);
      for (const command of commands) indexOfCommand.delete(command);
      send({ type: "applied", batchId, indexes, resultsJson: JSON.stringify(results) });
    },
    (error) => send({ type: "rejected", batchId, message: messageOf(error) }),
  );
  unanswered.add(answered);
  void answered.finally(() => unanswered.delete(answered));
}

async function close(closedSignal: Int32Array | undefined): Promise<void> {
  log?.close();
  await Promise.all(unanswered);
  try {
    db?.close();
  } finally {
    if (closedSignal !== undefined) {
      Atomics.store(closedSignal, 0, 1);
      Atomics.notify(closedSignal, 0);
    }
    send({ type: "closed" });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let closedSignal: Int32Array | undefined;
self.onmessage = (event: MessageEvent<ToLogWriter<Command>>) => {
  const message = event.data;
  switch (message.type) {
    case "open":
      closedSignal = message.closedSignal;
      open(message.dbPath);
      break;
    case "propose":
      propose(message.batchId, JSON.parse(message.commandsJson) as Command[]);
      break;
    case "close":
      void close(closedSignal);
      break;
  }
};
