// The Events page's empty states rendered to static markup.

import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { EventsEmpty } from "./EventsPage";

describe("events empty state", () => {
  it("tells a new user how to produce the first event", () => {
    const html = renderToStaticMarkup(<EventsEmpty filtered={false} />);
    expect(html).toContain("No events stored yet.");
    expect(html).toContain("Fleet page");
  });

  it("suggests widening a search that matched nothing", () => {
    const html = renderToStaticMarkup(<EventsEmpty filtered={true} />);
    expect(html).toContain("No stored event matches this search.");
    expect(html).toContain("widen the time range");
  });
});
