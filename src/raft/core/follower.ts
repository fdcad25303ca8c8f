/**
 * How a node answers its leader: AppendEntries (with the conflict hint that lets the leader skip
 * a whole term per round trip), heartbeats, and snapshots. Each handler updates the log and
 * returns the single response to send.
 */
import type { RaftLog } from "./log";
import type { AppendMessage, HeartbeatMessage, Outgoing, SnapshotMessage } from "./messages";

export function answerAppend(log: RaftLog, message: AppendMessage): Outgoing {
  const committed = log.committed;
  let { prevIndex, prevTerm, entries } = message;
  if (prevIndex < committed) {
    // Our committed prefix matches any leader's log: skip what it already covers.
    entries = entries.filter((entry) => entry.index > committed);
    prevIndex = committed;
    prevTerm = log.term(committed)!;
  }
  const lastNew = log.tryAppend(prevIndex, prevTerm, entries);
  if (lastNew !== null) {
    // Only up to lastNew: entries after it may be a stale tail the leader has not overwritten yet.
    log.commitTo(Math.min(message.commit, lastNew));
    return { type: "appendResponse", to: message.from, reject: false, index: lastNew, hintIndex: 0, hintTerm: 0 };
  }
  const hintIndex = log.findConflictByTerm(Math.min(prevIndex, log.lastIndex()), prevTerm);
  return { type: "appendResponse", to: message.from, reject: true, index: prevIndex, hintIndex, hintTerm: log.term(hintIndex) ?? 0 };
}

export function answerHeartbeat(log: RaftLog, message: HeartbeatMessage): Outgoing {
  // The leader sends min(our match, its commit), so this never covers entries we do not share.
  log.commitTo(Math.min(message.commit, log.lastIndex()));
  return { type: "heartbeatResponse", to: message.from, readSeq: message.readSeq };
}

export function answerSnapshot(log: RaftLog, message: SnapshotMessage): Outgoing {
  const snapshot = message.snapshot;
  if (snapshot.index > log.committed) {
    if (log.matchTerm(snapshot.index, snapshot.term)) log.commitTo(snapshot.index);
    else log.restore(snapshot);
  }
  return { type: "appendResponse", to: message.from, reject: false, index: log.committed, hintIndex: 0, hintTerm: 0 };
}
