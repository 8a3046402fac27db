import { formatDateTime, shortId } from "../format";
import type { AttackersState } from "../useAttackers";

interface AttackerListProps {
  state: AttackersState;
  // Id of the attacker whose events the feed shows, or "" for all.
  selected: string;
  onSelect: (id: string) => void;
}

export function AttackerList({ state, selected, onSelect }: AttackerListProps) {
  const { attackers, error, loaded } = state;

  return (
    <section className="pane attackers" aria-label="Attackers">
      <h2>
        Attackers <span className="count">{attackers.length}</span>
        {error !== "" && <span className="pane-error">{error}</span>}
      </h2>
      <div className="scroll">
        <table>
          <thead>
            <tr>
              <th>id</th>
              <th>addresses</th>
              <th>first seen (UTC)</th>
              <th>last seen (UTC)</th>
              <th className="num">events</th>
              <th className="num">auth</th>
              <th>services</th>
            </tr>
          </thead>
          <tbody>
            {attackers.map((a) => (
              <tr
                key={a.id}
                className={a.id === selected ? "selected" : undefined}
                onClick={() => onSelect(a.id)}
                title="Show only this attacker's events"
              >
                <td className="mono" title={a.id}>
                  {shortId(a.id)}
                </td>
                <td className="mono addresses" title={a.addresses.join("\n")}>
                  {a.addresses.join(", ")}
                </td>
                <td className="mono">{formatDateTime(a.firstSeen)}</td>
                <td className="mono">{formatDateTime(a.lastSeen)}</td>
                <td className="num">{a.eventCount.toString()}</td>
                <td className="num">{a.authAttemptCount.toString()}</td>
                <td title={a.deckies.length > 0 ? `deckies: ${a.deckies.join(", ")}` : undefined}>
                  {a.services.join(", ")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {loaded && attackers.length === 0 && <p className="empty">No attackers yet.</p>}
      </div>
    </section>
  );
}
