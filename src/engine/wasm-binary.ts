/**
 * The few pieces of the WebAssembly binary format (core spec §5) that the engine's hand-assembled modules
 * need: LEB128 integers, vectors, sections, names, and the part of the JavaScript API used to run them.
 * @module
 */

export type Bytes = number[]

/** Unsigned LEB128. */
export function uleb(value: number): Bytes {
  const out: Bytes = []
  do {
    let byte = value & 0x7f
    value >>>= 7
    if (value !== 0) byte |= 0x80
    out.push(byte)
  } while (value !== 0)
  return out
}

/** Signed LEB128. */
export function sleb(value: number): Bytes {
  const out: Bytes = []
  for (;;) {
    const byte = value & 0x7f
    value >>= 7
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

export const vector = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()]
export const section = (id: number, content: Bytes): Bytes => [id, ...uleb(content.length), ...content]
export const name = (text: string): Bytes => vector([...text].map((c) => [c.charCodeAt(0)]))

/** `\0asm` and version 1. */
export const MODULE_HEADER: Bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]

/** The part of the JavaScript WebAssembly API the engine uses (the project's type libraries leave it out). */
export interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (
    module: object,
    imports?: Record<string, Record<string, unknown>>,
  ) => {
    exports: Record<string, unknown>
  }
  Memory: new (descriptor: { initial: number; maximum?: number }) => { buffer: ArrayBuffer }
}

/** The runtime's WebAssembly API, or undefined where there is none. */
export function webAssembly(): WebAssemblyApi | undefined {
  return (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly
}
