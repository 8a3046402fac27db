import { useMemo, useState } from "react";

import {
  buildAttackerRequest,
  currentToken,
  defaultSort,
  emptySearch,
  firstPage,
  hasFilters,
  nextPage,
  pageNumber,
  previousPage,
  toggleSort,
  type AttackerSearch,
  type AttackerSort,
  type AttackerSortKey,
  type PageTrail,
} from "../attackerQuery";
import { AttackerList } from "../components/AttackerList";
import { useSession } from "../session";
import { useAttackers } from "../useAttackers";

const pageSize = 100;

export function AttackersPage({ eventsVersion }: { eventsVersion: number }) {
  const { api, onUnauthenticated } = useSession();
  // form is what the user types. applied is the last search submitted that
  // buildAttackerRequest accepted, and the list shows it.
  const [form, setForm] = useState<AttackerSearch>(emptySearch);
  const [applied, setApplied] = useState<AttackerSearch>(emptySearch);
  const [formError, setFormError] = useState("");
  const [sort, setSort] = useState<AttackerSort>(defaultSort);
  const [trail, setTrail] = useState<PageTrail>(firstPage);

  const request = useMemo(() => {
    const built = buildAttackerRequest(applied, sort, pageSize, currentToken(trail));
    return built.ok ? built.request : undefined;
  }, [applied, sort, trail]);
  const list = useAttackers(api, request, eventsVersion, onUnauthenticated);

  const search = (next: AttackerSearch): void => {
    const built = buildAttackerRequest(next, sort, pageSize);
    if (!built.ok) {
      setFormError(built.error);
      return;
    }
    setFormError("");
    setApplied(next);
    setTrail(firstPage);
  };
  const sortBy = (key: AttackerSortKey): void => {
    setSort((s) => toggleSort(s, key));
    setTrail(firstPage);
  };
  const field = (name: keyof AttackerSearch) => ({
    name: `attackers-${name}`,
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [name]: e.target.value })),
  });
  const filtered = hasFilters(applied);

  return (
    <section aria-labelledby="attackers-title">
      <h1 id="attackers-title" tabIndex={-1}>
        Attackers <span className="count">{list.attackers.length}</span>
      </h1>
      <p className="hint">
        One row per attacker, most recently seen first unless a column header says otherwise: select
        a header to sort by it, again to reverse. The page updates as events arrive. Open an attacker
        for its credentials, events and session recordings.
      </p>
      <form
        className="inline-form attacker-search"
        aria-label="Search attackers"
        onSubmit={(e) => {
          e.preventDefault();
          search(form);
        }}
      >
        <label>
          Address prefix <input {...field("addressPrefix")} placeholder="203.0.113." spellCheck={false} />
        </label>
        <label>
          Service <input {...field("service")} placeholder="ssh" />
        </label>
        <label>
          Decky <input {...field("decky")} placeholder="web-01" />
        </label>
        <label>
          User name tried <input {...field("principal")} placeholder="root" spellCheck={false} />
        </label>
        <label>
          Min. events <input {...field("minEvents")} type="number" min={0} step={1} className="short" />
        </label>
        <label>
          Seen since (UTC) <input {...field("since")} type="datetime-local" />
        </label>
        <label>
          Seen until (UTC) <input {...field("until")} type="datetime-local" />
        </label>
        <button type="submit">Search</button>
        <button
          type="button"
          onClick={() => {
            setForm(emptySearch);
            search(emptySearch);
          }}
          disabled={!filtered && !hasFilters(form)}
        >
          Clear
        </button>
        {list.loading && <span className="hint">Loading…</span>}
      </form>
      {formError !== "" && (
        <p className="error" role="alert">
          {formError}
        </p>
      )}
      {list.error !== "" && (
        <p className="error" role="alert">
          {list.error}
        </p>
      )}
      {list.loaded ? (
        <AttackerList
          attackers={list.attackers}
          sort={sort}
          onSort={sortBy}
          empty={
            filtered
              ? "No attackers match this search. Clear it to see every attacker."
              : "No attackers yet. Every source that connects to a decoy becomes an attacker here; check the Fleet page to see that your sensors are online."
          }
        />
      ) : (
        <p className="empty">Loading…</p>
      )}
      {/* A group, not a navigation landmark: the page menu is the one
          landmark named for pages. */}
      <div className="pager" role="group" aria-label="Attacker list paging">
        <button type="button" onClick={() => setTrail(previousPage)} disabled={trail.tokens.length === 0}>
          Previous page
        </button>
        <span>Page {pageNumber(trail)}</span>
        <button
          type="button"
          onClick={() => setTrail((t) => nextPage(t, list.nextPageToken))}
          disabled={list.nextPageToken === "" || list.loading}
        >
          Next page
        </button>
      </div>
    </section>
  );
}
