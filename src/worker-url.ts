/**
 * Where a worker thread's entry module is, from source and in the compiled binary alike.
 *
 * From source this file sits in `src/`, so `./<path below src>` is the worker's file. In the
 * binary every module is bundled into the main one at the root of the embedded files, and each
 * worker (an entrypoint of its own: package.json `build`, src/release/build-release.ts) keeps its
 * path below `src/`, the directory common to all entrypoints: the same relative URL finds it.
 */
export function workerUrl(pathBelowSrc: string): URL {
  return new URL(`./${pathBelowSrc}`, import.meta.url);
}
