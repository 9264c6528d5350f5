/**
 * Where the run's shared reference-service PKI lives (made once by
 * test/support/global-setup.ts, set in each worker by worker-setup.ts).
 * Unset outside vitest (benchmarks): each service then makes its own.
 */
let sharedPkiDir: string | undefined;

export function useSharedReferencePki(directory: string): void {
  sharedPkiDir = directory;
}

export function sharedReferencePkiDir(): string | undefined {
  return sharedPkiDir;
}
