/**
 * The simulated network: every message gets a delivery step drawn from the seeded PRNG, so
 * messages are delayed and reordered; some are dropped or duplicated; links can be cut. A link
 * cut at delivery time loses the message, as a real partition would.
 */
import type { Message } from "../../src/raft/core/messages";
import type { Prng } from "./prng";

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  /** Each message takes 1 + [0, maxExtraDelaySteps] steps. */
  maxExtraDelaySteps: number;
}

export const RELIABLE: NetworkFaults = { dropRate: 0, duplicateRate: 0, maxExtraDelaySteps: 0 };

interface InFlight {
  message: Message;
  deliverAt: number;
}

export class SimNetwork {
  private inFlight: InFlight[] = [];
  private cutLinks = new Set<string>();
  delivered = 0;
  dropped = 0;

  constructor(
    private readonly prng: Prng,
    public faults: NetworkFaults,
  ) {}

  send(message: Message, now: number): void {
    if (this.prng.chance(this.faults.dropRate)) {
      this.dropped++;
      return;
    }
    const copies = this.prng.chance(this.faults.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.inFlight.push({ message, deliverAt: now + 1 + this.prng.int(0, this.faults.maxExtraDelaySteps) });
    }
  }

  /** Messages due at `now`, in a random order, minus those whose link is cut. */
  takeDue(now: number): Message[] {
    const due: Message[] = [];
    const later: InFlight[] = [];
    for (const item of this.inFlight) {
      if (item.deliverAt <= now) due.push(item.message);
      else later.push(item);
    }
    this.inFlight = later;
    const deliverable = due.filter((message) => {
      const ok = !this.cutLinks.has(linkKey(message.from, message.to));
      if (!ok) this.dropped++;
      return ok;
    });
    this.delivered += deliverable.length;
    return this.prng.shuffle(deliverable);
  }

  /** Cuts every link between nodes of different groups (both directions). */
  partition(groups: string[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const from of a) for (const to of b) this.cutLinks.add(linkKey(from, to));
      }
    }
  }

  cutOneWay(from: string, to: string): void {
    this.cutLinks.add(linkKey(from, to));
  }

  isPartitioned(): boolean {
    return this.cutLinks.size > 0;
  }

  heal(): void {
    this.cutLinks.clear();
  }

  pending(): number {
    return this.inFlight.length;
  }
}

function linkKey(from: string, to: string): string {
  return `${from}>${to}`;
}
