import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { exportChoices, exportFileName, identityOrNull, otherMembers, techniqueUrl } from "./attack";
import { ExportFormat } from "./gen/decnet/api/v1/attacker_service_pb";

describe("techniqueUrl", () => {
  it("links a technique to its page", () => {
    expect(techniqueUrl("T1110")).toBe("https://attack.mitre.org/techniques/T1110/");
  });

  it("puts a sub-technique under its parent", () => {
    expect(techniqueUrl("T1110.001")).toBe("https://attack.mitre.org/techniques/T1110/001/");
  });

  it("gives no link for ids of another shape", () => {
    expect(techniqueUrl("")).toBe("");
    expect(techniqueUrl("T1110/../../evil")).toBe("");
    expect(techniqueUrl("javascript:alert(1)")).toBe("");
    expect(techniqueUrl("T1110.001.002")).toBe("");
    expect(techniqueUrl("t1110")).toBe("");
  });
});

describe("identityOrNull", () => {
  it("returns the identity", async () => {
    expect(await identityOrNull(Promise.resolve({ identity: { id: "i1" } }))).toEqual({ id: "i1" });
  });

  it("returns null on NotFound", async () => {
    expect(await identityOrNull(Promise.reject(new ConnectError("no identity", Code.NotFound)))).toBeNull();
  });

  it("passes other errors on", async () => {
    await expect(
      identityOrNull(Promise.reject(new ConnectError("down", Code.Unavailable))),
    ).rejects.toMatchObject({ code: Code.Unavailable });
  });
});

describe("exports", () => {
  it("offers STIX and MISP", () => {
    expect(exportChoices.map((c) => [c.label, c.format])).toEqual([
      ["STIX 2.1", ExportFormat.STIX],
      ["MISP", ExportFormat.MISP],
    ]);
  });

  it("names the file by attacker id", () => {
    const stix = exportChoices[0]!;
    expect(exportFileName("0b6a3c1e-2f4d-4e5a-9b8c-7d6e5f4a3b2c", stix)).toBe(
      "attacker-0b6a3c1e-2f4d-4e5a-9b8c-7d6e5f4a3b2c.stix.json",
    );
    expect(exportFileName("../../etc/passwd", stix)).toBe("attacker-etcpasswd.stix.json");
    expect(exportFileName("///", exportChoices[1]!)).toBe("attacker-attacker.misp.json");
  });

  it("names identity and campaign files by kind", () => {
    expect(exportFileName("0195a1b2-0000-7000-8000-0000000000a1", exportChoices[0]!, "identity")).toBe(
      "identity-0195a1b2-0000-7000-8000-0000000000a1.stix.json",
    );
    expect(exportFileName("<x>", exportChoices[1]!, "campaign")).toBe("campaign-x.misp.json");
    expect(exportFileName("", exportChoices[1]!, "campaign")).toBe("campaign-campaign.misp.json");
  });
});

describe("otherMembers", () => {
  it("leaves out the attacker on screen", () => {
    expect(otherMembers(["a", "b", "c"], "b")).toEqual(["a", "c"]);
    expect(otherMembers(["a"], "a")).toEqual([]);
  });
});
