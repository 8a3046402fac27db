import { formatDateTime, shortId } from "../format";
import type { Attacker } from "../gen/decnet/api/v1/attacker_service_pb";
import { routeHash } from "../nav";

interface AttackerListProps {
  attackers: readonly Attacker[];
  // Shown in place of the table when there are no attackers.
  empty: string;
}

// Table of attackers; each id links to the attacker's page, so the list is
// usable with the keyboard alone.
export function AttackerList({ attackers, empty }: AttackerListProps) {
  if (attackers.length === 0) {
    return <p className="empty">{empty}</p>;
  }
  return (
    <table className="attackers">
      <thead>
        <tr>
          <th>attacker</th>
          <th>addresses</th>
          <th>first seen (UTC)</th>
          <th>last seen (UTC)</th>
          <th className="num">events</th>
          <th className="num">auth</th>
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
