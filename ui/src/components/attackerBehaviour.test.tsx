// Static renders of the behaviour and decky traversal sections.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { AttackerBehaviourSchema, BehaviourClass, DeckyVisitSchema } from "../gen/decnet/api/v1/behaviour_pb";
import { BehaviourBody, TraversalTable } from "./AttackerBehaviour";

describe("behaviour section", () => {
  it("shows the class as a badge and lists the evidence", () => {
    const html = renderToStaticMarkup(
      <BehaviourBody
        behaviour={create(AttackerBehaviourSchema, {
          classification: BehaviourClass.MIXED,
          signals: [BehaviourClass.SCANNING, BehaviourClass.BRUTE_FORCE],
          evidence: ["6 services first reached within 4 minutes", "20 login attempts with 20 distinct passwords for 2 user names"],
          eventsConsidered: 10000,
          eventsCapped: true,
        })}
      />,
    );
    expect(html).toContain('<span class="badge behaviour-mixed" data-testid="behaviour-class">mixed</span>');
    expect(html).toContain("(scanning and brute force)");
    expect(html).toContain("from the newest 10,000 events");
    expect(html).toContain("<li>6 services first reached within 4 minutes</li>");
    expect(html).toContain("<li>20 login attempts with 20 distinct passwords for 2 user names</li>");
  });
});

describe("traversal table", () => {
  it("lists the deckies in the order given", () => {
    const html = renderToStaticMarkup(
      <TraversalTable
        visits={[
          create(DeckyVisitSchema, {
            decky: "dev-02",
            services: ["ftp", "ssh"],
            firstSeen: timestampFromDate(new Date("2026-12-05T01:00:00Z")),
            lastSeen: timestampFromDate(new Date("2026-12-05T01:04:05Z")),
            eventCount: 12n,
          }),
          create(DeckyVisitSchema, { decky: "dev-01", services: ["http"], eventCount: 1n }),
        ]}
      />,
    );
    expect(html.indexOf("dev-02")).toBeLessThan(html.indexOf("dev-01"));
    expect(html).toContain("<td>ftp, ssh</td>");
    expect(html).toContain("2026-12-05 01:00:00");
    expect(html).toContain("<td>4m05s</td>");
    expect(html).toContain("<td>12</td>");
  });

  it("says so when no decky was reached", () => {
    const html = renderToStaticMarkup(<TraversalTable visits={[]} />);
    expect(html).toContain("This attacker has reached no decky yet.");
    expect(html).not.toContain("<table");
  });
});
