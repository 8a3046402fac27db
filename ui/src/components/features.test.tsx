// Static renders of the second-factor, webhook and intel components.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import {
  GetAttackerIntelResponseSchema,
  IntelLocationSchema,
  IntelReportSchema,
  IntelResultSchema,
  IntelVerdict,
} from "../gen/decnet/api/v1/intel_service_pb";
import { Role } from "../gen/decnet/api/v1/access_pb";
import { qrPath } from "../qr";
import { ErrorNotice } from "./ErrorNotice";
import { IntelBody } from "./IntelPanel";
import { QrCode } from "./QrCode";

describe("intel panel", () => {
  it("explains the --intel flags when no provider is configured", () => {
    const html = renderToStaticMarkup(
      <IntelBody
        data={create(GetAttackerIntelResponseSchema, {
          verdict: IntelVerdict.UNKNOWN,
          reports: [create(IntelReportSchema, { address: "203.0.113.9", skipped: "no provider configured" })],
        })}
      />,
    );
    expect(html).toContain("No threat-intel provider is configured");
    expect(html).toContain("--intel-greynoise");
    expect(html).toContain("DECNET_INTEL_ABUSEIPDB_KEY");
    expect(html).not.toContain("<table");
  });

  it("shows verdicts, evidence, location and a provider link", () => {
    const html = renderToStaticMarkup(
      <IntelBody
        data={create(GetAttackerIntelResponseSchema, {
          verdict: IntelVerdict.MALICIOUS,
          reports: [
            create(IntelReportSchema, {
              address: "203.0.113.9",
              verdict: IntelVerdict.MALICIOUS,
              location: create(IntelLocationSchema, { countryCode: "NL", asn: 64500, asOrg: "Example" }),
              results: [
                create(IntelResultSchema, {
                  provider: "greynoise",
                  verdict: IntelVerdict.MALICIOUS,
                  reason: "known scanner",
                  evidence: { classification: "malicious" },
                  link: "https://viz.greynoise.io/ip/203.0.113.9",
                }),
                create(IntelResultSchema, { provider: "abuseipdb", error: "rate limited", link: "javascript:alert(1)" }),
              ],
            }),
          ],
        })}
      />,
    );
    expect(html).toContain('class="verdict verdict-malicious"');
    expect(html).toContain("NL · AS64500 Example");
    expect(html).toContain("<dt>classification</dt>");
    expect(html).toContain('href="https://viz.greynoise.io/ip/203.0.113.9"');
    expect(html).toContain('rel="noopener noreferrer"');
    expect(html).toContain("error: rate limited");
    expect(html).not.toContain("javascript:");
  });
});

describe("enroll-first refusals", () => {
  it("tells the admin to set up two-factor login instead of blaming the role", () => {
    const err = new ConnectError("admins must enroll a TOTP authenticator before anything else", Code.PermissionDenied);
    const html = renderToStaticMarkup(<ErrorNotice error={err} role={Role.ADMIN} />);
    expect(html).toContain("Two-factor login is now required for admins");
    expect(html).not.toContain("Not allowed for your role");
  });
});

describe("QR code", () => {
  const url = "otpauth://totp/DECNET:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=DECNET";

  it("encodes the URL in a version that fits", () => {
    const { size, d } = qrPath(url);
    // Versions have 17 + 4v modules per side.
    expect((size - 17) % 4).toBe(0);
    expect(size).toBeGreaterThanOrEqual(25);
    // The three finder patterns make the corners dark.
    expect(d).toContain("M0 0h1v1h-1z");
    expect(d).toContain(`M${size - 1} 0h1v1h-1z`);
    expect(d).toContain(`M0 ${size - 1}h1v1h-1z`);
  });

  it("renders an SVG element with a label, not markup from a string", () => {
    const html = renderToStaticMarkup(<QrCode text={url} label="QR code of the key" />);
    expect(html).toMatch(/^<svg [^>]*role="img"/);
    expect(html).toContain('aria-label="QR code of the key"');
    expect(html).not.toContain("<script");
  });
});
