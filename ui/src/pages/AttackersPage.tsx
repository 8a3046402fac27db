import { AttackerList } from "../components/AttackerList";
import type { AttackersState } from "../useAttackers";

export function AttackersPage({ attackers }: { attackers: AttackersState }) {
  return (
    <section aria-labelledby="attackers-title">
      <h1 id="attackers-title" tabIndex={-1}>
        Attackers <span className="count">{attackers.attackers.length}</span>
      </h1>
      <p className="hint">
        One row per attacker, most recently seen first. The list updates as events arrive. Open an
        attacker for its credentials, events and session recordings.
      </p>
      {attackers.error !== "" && (
        <p className="error" role="alert">
          {attackers.error}
        </p>
      )}
      {attackers.loaded ? (
        <AttackerList
          attackers={attackers.attackers}
          empty="No attackers yet. Every source that connects to a decoy becomes an attacker here; check the Fleet page to see that your sensors are online."
        />
      ) : (
        <p className="empty">Loading…</p>
      )}
    </section>
  );
}
