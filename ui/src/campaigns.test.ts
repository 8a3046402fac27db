import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import {
  campaignPageSize,
  evidenceKindLabel,
  evidenceKinds,
  formatScore,
  loadCampaigns,
  type CampaignPage,
} from "./campaigns";
import {
  CampaignEvidenceSchema,
  CampaignEvidenceTermSchema,
  CampaignSchema,
} from "./gen/decnet/api/v1/campaign_service_pb";

function page(ids: string[], nextPageToken: string): CampaignPage {
  return { campaigns: ids.map((id) => create(CampaignSchema, { id })), nextPageToken };
}

function fakeServer(pages: Record<string, CampaignPage>) {
  const requests: { pageSize: number; pageToken: string }[] = [];
  const fetchPage = (req: { pageSize: number; pageToken: string }) => {
    requests.push(req);
    const p = pages[req.pageToken];
    return p === undefined ? Promise.reject(new Error(`unknown token ${req.pageToken}`)) : Promise.resolve(p);
  };
  return { requests, fetchPage };
}

describe("loading campaigns", () => {
  const pages = { "": page(["a", "b"], "t1"), t1: page(["c"], "t2"), t2: page(["d"], "") };

  it("loads the pages requested and reports more", async () => {
    const server = fakeServer(pages);
    const loaded = await loadCampaigns(server.fetchPage, 2);
    expect(loaded.campaigns.map((c) => c.id)).toEqual(["a", "b", "c"]);
    expect(loaded.more).toBe(true);
    expect(server.requests).toEqual([
      { pageSize: campaignPageSize, pageToken: "" },
      { pageSize: campaignPageSize, pageToken: "t1" },
    ]);
  });

  it("stops at the last page", async () => {
    const server = fakeServer(pages);
    const loaded = await loadCampaigns(server.fetchPage, 10);
    expect(loaded.campaigns.map((c) => c.id)).toEqual(["a", "b", "c", "d"]);
    expect(loaded.more).toBe(false);
    expect(server.requests).toHaveLength(3);
  });

  it("keeps the first copy of a repeated campaign", async () => {
    const server = fakeServer({ "": page(["a", "b"], "t1"), t1: page(["b", "c"], "") });
    const loaded = await loadCampaigns(server.fetchPage, 2);
    expect(loaded.campaigns.map((c) => c.id)).toEqual(["a", "b", "c"]);
  });

  it("passes a failed request on", async () => {
    const server = fakeServer({ "": page(["a"], "gone") });
    await expect(loadCampaigns(server.fetchPage, 2)).rejects.toThrow("unknown token gone");
  });
});

function evidence(...kinds: string[]) {
  return create(CampaignEvidenceSchema, {
    identityId: "i1",
    otherIdentityId: "i2",
    score: 1,
    terms: kinds.map((kind) => create(CampaignEvidenceTermSchema, { kind, score: 0.5 })),
  });
}

describe("evidence summary", () => {
  it("counts pairs per kind in display order", () => {
    const got = evidenceKinds([
      evidence("overlap", "cohort"),
      evidence("infrastructure"),
      evidence("handoff", "infrastructure"),
    ]);
    expect(got).toEqual([
      { kind: "handoff", label: "phase hand-off", pairs: 1 },
      { kind: "infrastructure", label: "shared infrastructure", pairs: 2 },
      { kind: "cohort", label: "cohort", pairs: 1 },
      { kind: "overlap", label: "temporal overlap", pairs: 1 },
    ]);
  });

  it("counts a kind once per pair", () => {
    expect(evidenceKinds([evidence("credential", "credential")])).toEqual([
      { kind: "credential", label: "handed-over credential", pairs: 1 },
    ]);
  });

  it("lists unknown kinds last under their own name", () => {
    expect(evidenceKinds([evidence("zeta", "cohort")]).map((k) => k.label)).toEqual(["cohort", "zeta"]);
    expect(evidenceKindLabel("zeta")).toBe("zeta");
  });

  it("is empty without evidence", () => {
    expect(evidenceKinds([])).toEqual([]);
  });

  it("formats scores with two decimals", () => {
    expect(formatScore(1)).toBe("1.00");
    expect(formatScore(0.333333)).toBe("0.33");
  });
});
