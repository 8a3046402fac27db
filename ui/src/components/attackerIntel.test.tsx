// Static renders of the techniques table and the identity section.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import type { Api } from "../api";
import type { ExportKind } from "../attack";
import { Role } from "../gen/decnet/api/v1/access_pb";
import { AttackTechniqueSchema } from "../gen/decnet/api/v1/attacker_service_pb";
import { AttackerIdentitySchema } from "../gen/decnet/api/v1/identity_service_pb";
import { SessionProvider, type Session } from "../session";
import { ExportButtons, IdentityBody, TechniqueTable } from "./AttackerIntelSections";

const self = "11111111-1111-4111-8111-111111111111";
const other = "22222222-2222-4222-8222-222222222222";

describe("techniques table", () => {
  it("links each technique to attack.mitre.org in a new tab", () => {
    const html = renderToStaticMarkup(
      <TechniqueTable
        techniques={[
          create(AttackTechniqueSchema, {
            techniqueId: "T1110.001",
            name: "Password Guessing",
            tactic: "credential-access",
            count: 12n,
            firstSeen: timestampFromDate(new Date("2026-12-05T01:00:00Z")),
            lastSeen: timestampFromDate(new Date("2026-12-05T01:02:03Z")),
          }),
          create(AttackTechniqueSchema, { techniqueId: "bogus", name: "Odd" }),
        ]}
      />,
    );
    expect(html).toContain(
      '<a href="https://attack.mitre.org/techniques/T1110/001/" target="_blank" rel="noopener noreferrer">T1110.001</a>',
    );
    expect(html).toContain("<td>Password Guessing</td>");
    expect(html).toContain("<td>credential-access</td>");
    expect(html).toContain("<td>12</td>");
    expect(html).toContain("2026-12-05");
    expect(html).toContain('<td class="mono">bogus</td>');
    expect(html).not.toContain("No technique matched yet");
  });

  it("says so when nothing matched", () => {
    const html = renderToStaticMarkup(<TechniqueTable techniques={[]} />);
    expect(html).toContain("No technique matched yet");
    expect(html).not.toContain("<table");
  });
});

describe("identity section", () => {
  it("explains that identities form after about ten seconds", () => {
    const html = renderToStaticMarkup(<IdentityBody identity={null} attackerId={self} />);
    expect(html).toContain('data-testid="identity-empty"');
    expect(html).toContain("about ten seconds");
    expect(html).not.toContain("<dl");
  });

  it("shows the identity and links the other members", () => {
    const html = renderToStaticMarkup(
      <IdentityBody
        identity={create(AttackerIdentitySchema, {
          id: "identity-7",
          created: timestampFromDate(new Date("2026-12-05T01:00:00Z")),
          attackerIds: [self, other],
          sessions: 3,
        })}
        attackerId={self}
      />,
    );
    expect(html).toContain("identity-7");
    expect(html).toContain("<dd>3</dd>");
    expect(html).toContain(`href="#/attackers/${other}"`);
    expect(html).not.toContain(`href="#/attackers/${self}"`);
  });
});

describe("export buttons", () => {
  const render = (role: Role, kind?: ExportKind): string =>
    renderToStaticMarkup(
      <SessionProvider value={{ role, api: {} as Api, username: "u", onUnauthenticated: () => {} } satisfies Session}>
        <ExportButtons kind={kind} id={self} />
      </SessionProvider>,
    );

  it("offers STIX and MISP to analysts and admins", () => {
    for (const role of [Role.ANALYST, Role.ADMIN]) {
      const html = render(role, "campaign");
      expect(html).toContain("STIX 2.1");
      expect(html).toContain("MISP");
    }
  });

  it("shows nothing to viewers, who may not export", () => {
    expect(render(Role.VIEWER, "identity")).toBe("");
    expect(render(Role.VIEWER)).toBe("");
  });
});
