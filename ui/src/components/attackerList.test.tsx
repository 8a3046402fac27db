// The attacker table is rendered to static markup: the sortable headers
// must be buttons with aria-sort, and the overview's table plain headers.

import { create } from "@bufbuild/protobuf";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { AttackerSchema } from "../gen/decnet/api/v1/attacker_service_pb";
import { AttackerList } from "./AttackerList";

const attackers = [
  create(AttackerSchema, { id: "0195a1b2-0000-7000-8000-000000000001", addresses: ["127.0.0.2"], eventCount: 3n }),
];

describe("attacker table headers", () => {
  it("makes the sortable columns buttons and marks the sorted one", () => {
    const html = renderToStaticMarkup(
      <AttackerList attackers={attackers} empty="none" sort={{ key: "eventCount", ascending: true }} onSort={() => {}} />,
    );
    expect(html.match(/<button type="button" class="sort">/g)).toHaveLength(4);
    expect(html).toContain('<th class="num" aria-sort="ascending"><button type="button" class="sort">events');
    expect(html).toContain('<th aria-sort="none"><button type="button" class="sort">last seen (UTC)');
    expect(html).toContain("<th>addresses</th>");
    // The e2e flows find rows by class and address, and open the row's link.
    expect(html).toContain('<table class="attackers">');
    expect(html).toContain('href="#/attackers/0195a1b2-0000-7000-8000-000000000001"');
  });

  it("keeps plain headers without a sort", () => {
    const html = renderToStaticMarkup(<AttackerList attackers={attackers} empty="none" />);
    expect(html).not.toContain("aria-sort");
    expect(html).not.toContain("<button");
    expect(html).toContain('<th class="num">events</th>');
  });
});
