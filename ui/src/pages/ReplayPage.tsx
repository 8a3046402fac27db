import { Fragment, useEffect, useMemo, useRef, useState } from "react";

import { create as createPlayer } from "asciinema-player";
import "asciinema-player/dist/bundle/asciinema-player.css";

import { ErrorNotice } from "../components/ErrorNotice";
import { CastError, decodeCast, wasmAllowed } from "../cast";
import { formatBytes, formatDateTime, formatDuration, shortId } from "../format";
import type { Keystrokes } from "../gen/decnet/api/v1/session_service_pb";
import { keystrokeFacts, keystrokeReading } from "../keystrokes";
import { routeHash } from "../nav";
import { useResource, useSession } from "../session";

export function ReplayPage({ sessionId }: { sessionId: string }) {
  const { role } = useSession();
  const res = useResource(
    (api, signal) => api.sessions.getSessionRecording({ sessionId }, { signal }),
    [sessionId],
  );
  const decoded = useMemo(() => {
    if (res.data === undefined) {
      return undefined;
    }
    try {
      return { ok: true as const, cast: decodeCast(res.data.cast) };
    } catch (err) {
      return { ok: false as const, error: err instanceof CastError ? err.message : String(err) };
    }
  }, [res.data]);
  const rec = res.data?.recording;

  return (
    <>
      <p className="breadcrumb">
        <a href={routeHash({ page: "attackers" })}>Attackers</a> /{" "}
        {rec !== undefined && rec.attackerId !== "" && (
          <>
            <a href={routeHash({ page: "attacker", id: rec.attackerId })}>{shortId(rec.attackerId)}</a> /
          </>
        )}
      </p>
      <h1 tabIndex={-1}>Session replay</h1>
      <ErrorNotice error={res.error} role={role} />
      {rec !== undefined && (
        <p className="hint">
          {rec.service} on {rec.decky} from {rec.sourceAddress}
          {rec.time === undefined ? "" : `, ended ${formatDateTime(rec.time)} UTC`},{" "}
          {formatDuration(rec.durationMs)}, {formatBytes(rec.castBytes)}
          {rec.truncated ? ", truncated at the recording limit" : ""}. Space pauses and resumes; the
          arrow keys seek.
        </p>
      )}
      {decoded !== undefined && !decoded.ok && (
        <p className="error" role="alert">
          The recording cannot be played: {decoded.error}
        </p>
      )}
      {decoded !== undefined && decoded.ok && <CastPlayer text={decoded.cast.text} />}
      {res.data !== undefined && <TypingRhythm keystrokes={res.data.keystrokes} />}
    </>
  );
}

// The typing rhythm the identity clusterer compares between sessions.
function TypingRhythm({ keystrokes }: { keystrokes: Keystrokes | undefined }) {
  const facts = keystrokeFacts(keystrokes);
  return (
    <section aria-labelledby="typing-title">
      <h2 id="typing-title">Typing rhythm</h2>
      <p data-testid="typing-reading">{keystrokeReading(keystrokes)}</p>
      {facts.length > 0 && (
        <dl className="facts">
          {facts.map((f) => (
            <Fragment key={f.label}>
              <dt>{f.label}</dt>
              <dd className="mono">{f.value}</dd>
            </Fragment>
          ))}
        </dl>
      )}
    </section>
  );
}

// Mounts asciinema-player on the cast text. The player receives the text
// itself rather than a blob: or data: URL, which the page's
// Content-Security-Policy (connect-src 'self') would refuse to fetch.
function CastPlayer({ text }: { text: string }) {
  const container = useRef<HTMLDivElement>(null);
  const [blocked, setBlocked] = useState(false);

  useEffect(() => {
    let live = true;
    void wasmAllowed().then((ok) => {
      if (live) {
        setBlocked(!ok);
      }
    });
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    const el = container.current;
    if (el === null) {
      return;
    }
    const player = createPlayer({ data: text }, el, {
      fit: "width",
      idleTimeLimit: 2,
      controls: true,
    });
    return () => player.dispose();
  }, [text]);
  return (
    <>
      {blocked && (
        <p className="error" role="alert">
          The browser blocked the player: the server&apos;s Content-Security-Policy does not allow
          WebAssembly (script-src needs &apos;wasm-unsafe-eval&apos;).
        </p>
      )}
      <div className="player" ref={container} data-testid="replay-player" />
    </>
  );
}
