import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { AttackerIdentitySchema } from "./gen/decnet/api/v1/identity_service_pb";
import { identityPageSize, loadIdentities, type IdentityPage } from "./identities";

function page(ids: string[], nextPageToken: string): IdentityPage {
  return { identities: ids.map((id) => create(AttackerIdentitySchema, { id })), nextPageToken };
}

// fakeServer returns the pages in order, keyed by the token of the page
// before, and records each request.
function fakeServer(pages: Record<string, IdentityPage>) {
  const requests: { pageSize: number; pageToken: string; minAttackers: number }[] = [];
  const fetchPage = (req: { pageSize: number; pageToken: string; minAttackers: number }) => {
    requests.push(req);
    const p = pages[req.pageToken];
    return p === undefined ? Promise.reject(new Error(`unknown token ${req.pageToken}`)) : Promise.resolve(p);
  };
  return { requests, fetchPage };
}

describe("loading identities", () => {
  const pages = { "": page(["a", "b"], "t1"), t1: page(["c"], "t2"), t2: page(["d"], "") };

  it("loads the pages asked for and reports more", async () => {
    const server = fakeServer(pages);
    const loaded = await loadIdentities(server.fetchPage, 2, 2);
    expect(loaded.identities.map((i) => i.id)).toEqual(["a", "b", "c"]);
    expect(loaded.more).toBe(true);
    expect(server.requests).toEqual([
      { pageSize: identityPageSize, pageToken: "", minAttackers: 2 },
      { pageSize: identityPageSize, pageToken: "t1", minAttackers: 2 },
    ]);
  });

  it("stops at the last page", async () => {
    const server = fakeServer(pages);
    const loaded = await loadIdentities(server.fetchPage, 1, 10);
    expect(loaded.identities.map((i) => i.id)).toEqual(["a", "b", "c", "d"]);
    expect(loaded.more).toBe(false);
    expect(server.requests).toHaveLength(3);
  });

  it("keeps the first copy of a repeated identity", async () => {
    const server = fakeServer({ "": page(["a", "b"], "t1"), t1: page(["b", "c"], "") });
    const loaded = await loadIdentities(server.fetchPage, 1, 2);
    expect(loaded.identities.map((i) => i.id)).toEqual(["a", "b", "c"]);
  });

  it("passes a failed request on", async () => {
    const server = fakeServer({ "": page(["a"], "gone") });
    await expect(loadIdentities(server.fetchPage, 1, 2)).rejects.toThrow("unknown token gone");
  });
});
