// QR code of a text as an SVG path, for the otpauth URL of TOTP enrollment.
// The path is built here, not parsed from markup, so nothing is injected
// into the page as HTML.

import qrcode from "qrcode-generator";

export interface QrPath {
  // Modules per side, without the quiet zone.
  size: number;
  // One "M x y h1 v1 h-1 z" square per dark module.
  d: string;
}

export function qrPath(text: string): QrPath {
  // Type 0 picks the smallest version that fits; level M survives a
  // slightly blurred phone camera.
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const size = qr.getModuleCount();
  const parts: string[] = [];
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      if (qr.isDark(row, col)) {
        parts.push(`M${col} ${row}h1v1h-1z`);
      }
    }
  }
  return { size, d: parts.join("") };
}
