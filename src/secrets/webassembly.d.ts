/**
 * The part of the WebAssembly JavaScript API that keyword-scan-simd.ts uses.
 * Node has had it for years, but @types/node 20 does not declare it (22 does: delete this file when
 * the project moves to it, or the two declarations clash) and the
 * project's `lib` (ES2023, no DOM) does not either.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, never>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Global {
    readonly value: unknown;
  }
  function validate(bytes: Uint8Array): boolean;
}
