import { useState } from "react";

import type { Api } from "../api";
import { useAttackers } from "../useAttackers";
import { useEventStream, type StreamStatus } from "../useEventStream";
import { AttackerList } from "./AttackerList";
import { EventFeed } from "./EventFeed";

interface DashboardProps {
  api: Api;
  // Empty when the page was reloaded with an existing session.
  username: string;
  onUnauthenticated: () => void;
  onLogout: () => void;
}

const statusLabels: Record<StreamStatus, string> = {
  connecting: "connecting",
  live: "live",
  reconnecting: "reconnecting",
};

export function Dashboard({ api, username, onUnauthenticated, onLogout }: DashboardProps) {
  const stream = useEventStream(api, onUnauthenticated);
  const attackers = useAttackers(api, stream.version, onUnauthenticated);
  const [selectedAttacker, setSelectedAttacker] = useState("");

  return (
    <div className="dashboard">
      <header className="topbar">
        <span className="brand">DECNET</span>
        <span className={`stream-status status-${stream.status}`} title={stream.error}>
          <span className="dot" aria-hidden="true" />
          {statusLabels[stream.status]}
          {stream.status !== "live" && stream.error !== "" && (
            <span className="status-error"> — {stream.error}</span>
          )}
        </span>
        <span className="spacer" />
        {username !== "" && <span className="user">{username}</span>}
        <button type="button" className="link" onClick={onLogout}>
          Log out
        </button>
      </header>
      <div className="panes">
        <AttackerList
          state={attackers}
          selected={selectedAttacker}
          onSelect={(id) => setSelectedAttacker((cur) => (cur === id ? "" : id))}
        />
        <EventFeed
          events={stream.events}
          attackerFilter={selectedAttacker}
          onClearAttackerFilter={() => setSelectedAttacker("")}
        />
      </div>
    </div>
  );
}
