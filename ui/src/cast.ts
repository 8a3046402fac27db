// Session recordings arrive as asciicast v2 bytes. The player is given the
// text itself rather than a URL: the dashboard's Content-Security-Policy
// allows connections only to its own origin, which excludes blob: and data:
// URLs.

const castDecoder = new TextDecoder("utf-8");

export interface CastHeader {
  width: number;
  height: number;
}

export class CastError extends Error {}

// Decodes cast bytes and checks the header line, so a damaged recording is
// reported in words instead of as a blank player. Bytes that are not UTF-8
// are replaced: the player renders terminal output, and the recorder
// already stores output as JSON strings.
export function decodeCast(bytes: Uint8Array): { text: string; header: CastHeader } {
  const text = castDecoder.decode(bytes);
  const newline = text.indexOf("\n");
  const first = newline === -1 ? text : text.slice(0, newline);
  let header: unknown;
  try {
    header = JSON.parse(first);
  } catch {
    throw new CastError("recording has no asciicast header line");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new CastError("recording has no asciicast header line");
  }
  const h = header as Record<string, unknown>;
  if (h["version"] !== 2) {
    throw new CastError(`unsupported asciicast version ${String(h["version"])}`);
  }
  const width = h["width"];
  const height = h["height"];
  if (typeof width !== "number" || typeof height !== "number" || width <= 0 || height <= 0) {
    throw new CastError("asciicast header lacks a terminal size");
  }
  return { text, header: { width, height } };
}

// The smallest valid WebAssembly module: the magic number and version 1.
const emptyWasmModule = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

// Reports whether the page may compile WebAssembly. asciinema-player's
// terminal emulator needs it, and a Content-Security-Policy whose
// script-src lacks 'wasm-unsafe-eval' forbids it. The player then shows an
// empty frame without an error, so the page checks first.
export async function wasmAllowed(): Promise<boolean> {
  try {
    await WebAssembly.compile(emptyWasmModule);
    return true;
  } catch {
    return false;
  }
}
