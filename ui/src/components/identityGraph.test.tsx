// The identity graph and list, rendered to static markup.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { AttackerIdentitySchema } from "../gen/decnet/api/v1/identity_service_pb";
import { layoutIdentityGraph } from "../identityGraph";
import { IdentitiesEmpty, IdentityDetails, IdentityGraphView, IdentityTable } from "./IdentityGraph";

const attackerA = "01a24393-0d98-7695-a577-625ac27dc978";
const attackerB = "01a24393-0d98-7695-a577-625ac27dc979";
const identity = create(AttackerIdentitySchema, {
  id: "0195a1b2-0000-7000-8000-0000000000aa",
  attackerIds: [attackerA, attackerB],
  sessions: 3,
  created: timestampFromDate(new Date(Date.UTC(2026, 2, 1, 12, 0, 0))),
});
const noop = () => undefined;

describe("identity graph", () => {
  const html = renderToStaticMarkup(
    <IdentityGraphView graph={layoutIdentityGraph([identity])} selectedId="" onSelect={noop} />,
  );

  it("shows the short id and the counts", () => {
    expect(html).toContain("000000aa");
    expect(html).toContain("2 attackers, 3 sessions");
  });

  it("makes the identity a focusable button", () => {
    expect(html).toContain('role="button"');
    expect(html).toContain('tabindex="0"');
    expect(html).toContain('aria-label="Identity 000000aa, 2 attackers, 3 sessions"');
    expect(html).toContain('aria-pressed="false"');
  });

  it("links attackers to their pages", () => {
    expect(html).toContain(`href="#/attackers/${attackerA}"`);
    expect(html).toContain(`href="#/attackers/${attackerB}"`);
    expect(html.match(/<line /g)).toHaveLength(2);
  });

  it("marks the selected identity and its edges", () => {
    const selected = renderToStaticMarkup(
      <IdentityGraphView graph={layoutIdentityGraph([identity])} selectedId={identity.id} onSelect={noop} />,
    );
    expect(selected).toContain('aria-pressed="true"');
    expect(selected.match(/class="edge selected"/g)).toHaveLength(2);
  });
});

describe("identity list", () => {
  it("has a row per identity with attacker links", () => {
    const html = renderToStaticMarkup(<IdentityTable identities={[identity]} selectedId="" onSelect={noop} />);
    expect(html).toContain("Select identity 000000aa");
    expect(html).toContain(`href="#/attackers/${attackerA}"`);
    expect(html).toContain("2026-03-01");
  });

  it("details the selected identity in full", () => {
    const html = renderToStaticMarkup(<IdentityDetails identity={identity} />);
    expect(html).toContain(identity.id);
    expect(html).toContain("2 attackers, 3 sessions");
  });
});

describe("identities empty state", () => {
  it("tells a new user what forms identities and where to look", () => {
    const html = renderToStaticMarkup(<IdentitiesEmpty minAttackers={1} />);
    expect(html).toContain("No identities yet.");
    expect(html).toContain("reuse a client fingerprint");
    expect(html).toContain('href="#/attackers"');
    expect(html).toContain('href="#/fleet"');
  });

  it("suggests a lower minimum when filtering", () => {
    const html = renderToStaticMarkup(<IdentitiesEmpty minAttackers={3} />);
    expect(html).toContain("No identity has 3 or more attackers yet.");
    expect(html).not.toContain("No identities yet.");
  });
});
