/** Which cluster size a seed runs with when none is given: odd seeds 3 nodes, even seeds 5. */
export function nodeCountForSeed(seed: number): number {
  return seed % 2 === 0 ? 5 : 3;
}
