import {
  behaviourBadgeClass,
  behaviourLabel,
  eventsConsideredText,
  signalsText,
  visitLength,
} from "../behaviour";
import { formatDateTime } from "../format";
import type { AttackerBehaviour, DeckyVisit } from "../gen/decnet/api/v1/behaviour_pb";

// behaviour is undefined while the attacker loads, or from a server
// without classification.
export function BehaviourSection({ behaviour }: { behaviour: AttackerBehaviour | undefined }) {
  return (
    <section aria-labelledby="attacker-behaviour-title">
      <h2 id="attacker-behaviour-title">Behaviour</h2>
      {behaviour !== undefined && <BehaviourBody behaviour={behaviour} />}
    </section>
  );
}

export function BehaviourBody({ behaviour }: { behaviour: AttackerBehaviour }) {
  const signals = signalsText(behaviour.signals);
  return (
    <>
      <p>
        <span className={behaviourBadgeClass(behaviour.classification)} data-testid="behaviour-class">
          {behaviourLabel(behaviour.classification)}
        </span>{" "}
        {signals !== "" && <>({signals}) </>}
        <span className="hint">{eventsConsideredText(behaviour)}</span>
      </p>
      <ul className="evidence" data-testid="behaviour-evidence">
        {behaviour.evidence.map((line, i) => (
          <li key={i}>{line}</li>
        ))}
      </ul>
    </>
  );
}

export function TraversalSection({ visits }: { visits: readonly DeckyVisit[] | undefined }) {
  return (
    <section aria-labelledby="attacker-traversal-title">
      <h2 id="attacker-traversal-title">Decky traversal</h2>
      {visits !== undefined && <TraversalTable visits={visits} />}
    </section>
  );
}

export function TraversalTable({ visits }: { visits: readonly DeckyVisit[] }) {
  if (visits.length === 0) {
    return <p className="empty">This attacker has reached no decky yet.</p>;
  }
  return (
    <table className="traversal" data-testid="traversal">
      <thead>
        <tr>
          <th>#</th>
          <th>decky</th>
          <th>services</th>
          <th>first seen (UTC)</th>
          <th>last seen (UTC)</th>
          <th>time on decky</th>
          <th>events</th>
        </tr>
      </thead>
      <tbody>
        {visits.map((v, i) => (
          <tr key={v.decky}>
            <td>{i + 1}</td>
            <td data-testid="traversal-decky">{v.decky}</td>
            <td>{v.services.join(", ")}</td>
            <td className="mono">{formatDateTime(v.firstSeen)}</td>
            <td className="mono">{formatDateTime(v.lastSeen)}</td>
            <td>{visitLength(v)}</td>
            <td>{v.eventCount.toString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
