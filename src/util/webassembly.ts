/**
 * The parts of the WebAssembly API Vigil uses, typed here because the project's TypeScript libs
 * (ES2023 + Node) do not declare the global `WebAssembly` namespace.
 */

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    m: object,
    imports: Record<string, Record<string, unknown>>,
  ) => {
    exports: Record<string, unknown>;
  };
  validate(bytes: Uint8Array): boolean;
  CompileError?: new () => Error;
}

/** The global WebAssembly object, or null where there is none. */
export function wasmApi(): WasmApi | null {
  const w = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  return w !== undefined && typeof w.Memory === 'function' ? w : null;
}
