import { useMemo } from "react";

import { qrPath } from "../qr";

// Quiet zone around the code, in modules, as scanners expect.
const quiet = 4;

export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, d } = useMemo(() => qrPath(text), [text]);
  const full = size + 2 * quiet;
  return (
    <svg
      className="qr"
      role="img"
      aria-label={label}
      viewBox={`${-quiet} ${-quiet} ${full} ${full}`}
      width={full * 5}
      height={full * 5}
      shapeRendering="crispEdges"
    >
      <rect x={-quiet} y={-quiet} width={full} height={full} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
