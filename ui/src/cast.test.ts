import { describe, expect, it } from "vitest";

import { CastError, decodeCast, wasmAllowed } from "./cast";

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("decodeCast", () => {
  it("decodes a v2 recording and reads its size", () => {
    const text = '{"version":2,"width":80,"height":24}\n[0.5,"o","$ "]\n';
    const cast = decodeCast(encode(text));
    expect(cast.text).toBe(text);
    expect(cast.header).toEqual({ width: 80, height: 24 });
  });

  it("accepts a header without a trailing newline", () => {
    expect(decodeCast(encode('{"version":2,"width":1,"height":1}')).header).toEqual({ width: 1, height: 1 });
  });

  it("replaces bytes that are not UTF-8 instead of failing", () => {
    const header = encode('{"version":2,"width":80,"height":24}\n');
    const bytes = new Uint8Array([...header, 0xff, 0x0a]);
    expect(decodeCast(bytes).text.endsWith("\ufffd\n")).toBe(true);
  });

  const bad = [
    { name: "empty", text: "", message: "recording has no asciicast header line" },
    { name: "not JSON", text: "hello\n", message: "recording has no asciicast header line" },
    { name: "a JSON array", text: "[1,2]\n", message: "recording has no asciicast header line" },
    { name: "version 1", text: '{"version":1,"width":80,"height":24}\n', message: "unsupported asciicast version 1" },
    { name: "version 3", text: '{"version":3,"term":{"cols":80,"rows":24}}\n', message: "unsupported asciicast version 3" },
    { name: "no size", text: '{"version":2}\n', message: "asciicast header lacks a terminal size" },
    { name: "zero width", text: '{"version":2,"width":0,"height":24}\n', message: "asciicast header lacks a terminal size" },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      expect(() => decodeCast(encode(c.text))).toThrow(CastError);
      expect(() => decodeCast(encode(c.text))).toThrow(c.message);
    });
  }
});

describe("wasmAllowed", () => {
  it("reports true where no policy forbids WebAssembly", async () => {
    expect(await wasmAllowed()).toBe(true);
  });
});
