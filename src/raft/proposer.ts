/**
 * What the coordinator needs from consensus: put a command in the ordered log, and get back
 * the state machine's result once the entry is committed and applied. Routes only ever see
 * this interface, so a cluster of one (LocalLog) and a Raft cluster are interchangeable.
 */
export interface AppliedEntry<C, R> {
  index: number;
  command: C;
  result: R;
}

export interface Proposer<C, R> {
  /** Resolves with the result of applying `command` once it is durably committed. */
  propose(command: C): Promise<R>;
  /** Called after every batch of applied entries (in log order), on every node. */
  onApplied(listener: (entries: AppliedEntry<C, R>[]) => void): void;
  /**
   * Only where the state a node reads may run ahead of what is durable (the local log applies a
   * batch before its fsync completes): undefined when nothing is waiting, else a promise of the
   * moment everything applied so far is durable.
   */
  durable?(): Promise<void> | undefined;
  /** "leader" on the node that may accept proposals. */
  role(): "leader" | "follower" | "candidate";
  close(): void;
}

/** The state machine as consensus sees it: opaque commands applied in order. */
export interface Applier<C, R> {
  lastApplied(): number;
  /** Applies entry `index`; called inside the log's transaction. */
  apply(index: number, command: C): R;
  /** Applies consecutive entries from `firstIndex` in one go, as `apply` would one by one (optional: fewer writes). */
  applyRun?(firstIndex: number, commands: readonly C[]): R[];
}
