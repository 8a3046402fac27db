import type { ReactNode } from "react";

import { ariaSort, type AttackerSort, type AttackerSortKey } from "../attackerQuery";
import { formatDateTime, shortId } from "../format";
import type { Attacker } from "../gen/decnet/api/v1/attacker_service_pb";
import { routeHash } from "../nav";

interface AttackerListProps {
  attackers: readonly Attacker[];
  // Shown in place of the table when there are no attackers.
  empty: string;
  // With both set, the sortable column headers are buttons that call
  // onSort, and each carries aria-sort.
  sort?: AttackerSort;
  onSort?: (key: AttackerSortKey) => void;
}

// Table of attackers; each id links to the attacker's page, so the list is
// usable with the keyboard alone.
export function AttackerList({ attackers, empty, sort, onSort }: AttackerListProps) {
  if (attackers.length === 0) {
    return <p className="empty">{empty}</p>;
  }
  const header = (key: AttackerSortKey, label: string, className?: string): ReactNode => (
    <SortableHeader key={key} column={key} label={label} className={className} sort={sort} onSort={onSort} />
  );
  return (
    <table className="attackers">
      <thead>
        <tr>
          <th>attacker</th>
          <th>addresses</th>
          {header("firstSeen", "first seen (UTC)")}
          {header("lastSeen", "last seen (UTC)")}
          {header("eventCount", "events", "num")}
          {header("authAttemptCount", "auth", "num")}
          <th>services</th>
          <th>deckies</th>
        </tr>
      </thead>
      <tbody>
        {attackers.map((a) => (
          <tr key={a.id}>
            <td className="mono">
              <a href={routeHash({ page: "attacker", id: a.id })} title={a.id}>
                {shortId(a.id)}
              </a>
            </td>
            <td className="mono addresses" title={a.addresses.join("\n")}>
              {a.addresses.join(", ")}
            </td>
            <td className="mono">{formatDateTime(a.firstSeen)}</td>
            <td className="mono">{formatDateTime(a.lastSeen)}</td>
            <td className="num">{a.eventCount.toString()}</td>
            <td className="num">{a.authAttemptCount.toString()}</td>
            <td>{a.services.join(", ")}</td>
            <td>{a.deckies.join(", ")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface SortableHeaderProps {
  column: AttackerSortKey;
  label: string;
  className?: string;
  sort?: AttackerSort;
  onSort?: (key: AttackerSortKey) => void;
}

const sortArrows = { ascending: "▲", descending: "▼", none: "" } as const;

// A column header that sorts by its column when the list is sortable. The
// button puts it in the tab order and activates on Enter and Space. The
// arrow is hidden from screen readers, which read aria-sort instead.
function SortableHeader({ column, label, className, sort, onSort }: SortableHeaderProps) {
  if (sort === undefined || onSort === undefined) {
    return <th className={className}>{label}</th>;
  }
  const state = ariaSort(sort, column);
  return (
    <th className={className} aria-sort={state}>
      <button type="button" className="sort" onClick={() => onSort(column)}>
        {label}
        <span className="sort-arrow" aria-hidden="true">
          {sortArrows[state]}
        </span>
      </button>
    </th>
  );
}
