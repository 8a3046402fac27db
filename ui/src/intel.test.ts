import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import {
  GetAttackerIntelResponseSchema,
  IntelLocationSchema,
  IntelReportSchema,
  IntelVerdict,
} from "./gen/decnet/api/v1/intel_service_pb";
import { evidenceEntries, formatLocation, intelView, providerLink, skippedText, verdictLabel } from "./intel";

describe("intel view", () => {
  it("explains a server without providers instead of listing empty reports", () => {
    const res = create(GetAttackerIntelResponseSchema, {
      verdict: IntelVerdict.UNKNOWN,
      reports: [create(IntelReportSchema, { address: "203.0.113.9", skipped: "no provider configured" })],
    });
    expect(intelView(res)).toEqual({ kind: "no-provider" });
  });

  it("shows reports when at least one address was looked up", () => {
    const reports = [
      create(IntelReportSchema, { address: "127.0.0.2", skipped: "non-public address" }),
      create(IntelReportSchema, { address: "203.0.113.9", verdict: IntelVerdict.MALICIOUS }),
    ];
    const view = intelView(create(GetAttackerIntelResponseSchema, { verdict: IntelVerdict.MALICIOUS, reports }));
    expect(view.kind).toBe("reports");
    expect(view.kind === "reports" && view.reports.map((r) => r.address)).toEqual(["127.0.0.2", "203.0.113.9"]);
    expect(intelView(create(GetAttackerIntelResponseSchema, {}))).toEqual({ kind: "no-address" });
  });

  it("names verdicts", () => {
    expect(verdictLabel(IntelVerdict.MALICIOUS)).toBe("malicious");
    expect(verdictLabel(IntelVerdict.SUSPICIOUS)).toBe("suspicious");
    expect(verdictLabel(IntelVerdict.BENIGN)).toBe("benign");
    expect(verdictLabel(IntelVerdict.UNSPECIFIED)).toBe("unknown");
  });

  it("formats location and AS", () => {
    expect(
      formatLocation(
        create(IntelLocationSchema, {
          city: "Paris",
          country: "France",
          countryCode: "FR",
          asn: 64500,
          asOrg: "Example Org",
          network: "198.51.100.0/24",
        }),
      ),
    ).toBe("Paris, France (FR) · AS64500 Example Org · 198.51.100.0/24");
    expect(formatLocation(create(IntelLocationSchema, { countryCode: "NL" }))).toBe("NL");
    expect(formatLocation(undefined)).toBe("");
  });

  it("links only to https pages and sorts evidence", () => {
    expect(providerLink("https://viz.greynoise.io/ip/203.0.113.9")).toBe("https://viz.greynoise.io/ip/203.0.113.9");
    expect(providerLink("javascript:alert(1)")).toBe("");
    expect(providerLink("http://example.com")).toBe("");
    expect(evidenceEntries({ malware: "emotet", classification: "malicious" })).toEqual([
      ["classification", "malicious"],
      ["malware", "emotet"],
    ]);
    expect(skippedText("non-public address")).toContain("--intel-lookup-non-public");
  });
});
