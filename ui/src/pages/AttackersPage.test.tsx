// The attackers page rendered to static markup before its first response:
// the search form, its labels and the paging controls.

import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import type { Api } from "../api";
import { Role } from "../gen/decnet/api/v1/access_pb";
import { SessionProvider } from "../session";
import { AttackersPage } from "./AttackersPage";

describe("attackers page", () => {
  // Effects do not run in static rendering, so the API is never called.
  const html = renderToStaticMarkup(
    <SessionProvider value={{ api: {} as Api, username: "admin", role: Role.ADMIN, onUnauthenticated: () => {} }}>
      <AttackersPage eventsVersion={0} />
    </SessionProvider>,
  );

  it("labels every search field", () => {
    for (const label of [
      "Address prefix",
      "Service",
      "Decky",
      "User name tried",
      "Min. events",
      "Seen since (UTC)",
      "Seen until (UTC)",
    ]) {
      expect(html).toContain(`<label>${label} <input`);
    }
    expect(html).toContain('<form class="inline-form attacker-search" aria-label="Search attackers">');
    expect(html).toContain('type="datetime-local"');
  });

  it("starts on page 1 with both paging buttons disabled", () => {
    expect(html).toContain("<span>Page 1</span>");
    expect(html).toContain('<button type="button" disabled="">Previous page</button>');
    expect(html).toContain('<button type="button" disabled="">Next page</button>');
  });

  it("keeps the heading the end-to-end flows wait for", () => {
    expect(html).toContain('<h1 id="attackers-title" tabindex="-1">Attackers <span class="count">0</span></h1>');
  });
});
