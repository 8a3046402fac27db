import { useState, type FormEvent } from "react";

import { noteProblem, parseTags, triageChoices, triageLabel } from "../annotations";
import { isCanceled, isUnauthenticated } from "../api";
import { formatDateTime } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { Note, Triage, TriageStatus } from "../gen/decnet/api/v1/annotation_service_pb";
import { useResource, useSession } from "../session";
import { ErrorNotice } from "./ErrorNotice";

// Notes, tags and triage status of an attacker. Everyone reads them;
// analysts and admins write.
export function AnnotationsPanel({ attackerId }: { attackerId: string }) {
  const { api, role, username, onUnauthenticated } = useSession();
  const loaded = useResource((a, signal) => a.annotations.getAnnotations({ attackerId }, { signal }), [attackerId]);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const canWrite = role >= Role.ANALYST;

  // Runs a change and reloads the panel, keeping the server's error for
  // the user.
  const change = async (call: () => Promise<unknown>): Promise<boolean> => {
    setActionError(undefined);
    try {
      await call();
      loaded.reload();
      return true;
    } catch (err) {
      if (isUnauthenticated(err)) {
        onUnauthenticated();
      } else if (!isCanceled(err)) {
        setActionError(err);
      }
      return false;
    }
  };

  const data = loaded.data;
  return (
    <section aria-labelledby="annotations-title" className="annotations">
      <h2 id="annotations-title">Triage and notes</h2>
      <ErrorNotice error={loaded.error} role={role} />
      <ErrorNotice error={actionError} role={role} />
      {data?.triage !== undefined && (
        <TriageView triage={data.triage} canWrite={canWrite} onSave={(tags, status) =>
          change(() => api.annotations.setTriage({ attackerId, tags, status }))
        } />
      )}
      {data !== undefined && (
        <NoteList
          notes={data.notes}
          canDelete={(n) => canWrite && (n.author === username || role >= Role.ADMIN)}
          onDelete={(n) => void change(() => api.annotations.deleteNote({ attackerId, id: n.id }))}
        />
      )}
      {canWrite && data !== undefined && (
        <NoteForm onAdd={(text) => change(() => api.annotations.addNote({ attackerId, text }))} />
      )}
    </section>
  );
}

function TriageView({
  triage,
  canWrite,
  onSave,
}: {
  triage: Triage;
  canWrite: boolean;
  onSave: (tags: string[], status: TriageStatus) => Promise<boolean>;
}) {
  const [tagInput, setTagInput] = useState(triage.tags.join(", "));
  const [status, setStatus] = useState<TriageStatus>(triage.status);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const parsed = parseTags(tagInput);
    if (parsed.error !== undefined) {
      setProblem(parsed.error);
      return;
    }
    setProblem(undefined);
    setBusy(true);
    await onSave(parsed.tags, status);
    setBusy(false);
  };

  return (
    <>
      <p data-testid="triage-summary">
        Status: <strong>{triageLabel(triage.status)}</strong>
        {triage.tags.length > 0 ? (
          <>
            {" · tags: "}
            {triage.tags.map((t) => (
              <span key={t} className="tag" data-testid="attacker-tag">
                {t}
              </span>
            ))}
          </>
        ) : (
          " · no tags"
        )}
        {triage.updatedBy !== "" && triage.updated !== undefined && (
          <span className="hint">
            {" "}
            (set by {triage.updatedBy}, {formatDateTime(triage.updated)} UTC)
          </span>
        )}
      </p>
      {canWrite && (
        <form className="inline-form" onSubmit={(e) => void submit(e)} aria-label="Triage">
          <label>
            Status{" "}
            <select value={status} onChange={(e) => setStatus(Number(e.target.value) as TriageStatus)}>
              {triageChoices.map((c) => (
                <option key={c.status} value={c.status}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Tags{" "}
            <input
              type="text"
              value={tagInput}
              placeholder="mirai, brute-force"
              onChange={(e) => setTagInput(e.target.value)}
              aria-describedby="triage-tags-hint"
            />
          </label>
          <button type="submit" disabled={busy}>
            {busy ? "Saving…" : "Save triage"}
          </button>
          <span id="triage-tags-hint" className="hint">
            Separate tags with commas or spaces.
          </span>
          {problem !== undefined && (
            <p role="alert" className="error">
              {problem}
            </p>
          )}
        </form>
      )}
    </>
  );
}

function NoteList({
  notes,
  canDelete,
  onDelete,
}: {
  notes: Note[];
  canDelete: (n: Note) => boolean;
  onDelete: (n: Note) => void;
}) {
  if (notes.length === 0) {
    return <p className="empty">No notes yet. Analysts can record what they found out about this attacker here.</p>;
  }
  return (
    <ol className="notes" data-testid="attacker-notes">
      {notes.map((n) => (
        <li key={n.id}>
          <p className="note-meta">
            <strong>{n.author}</strong>
            {n.created !== undefined && <span className="hint"> {formatDateTime(n.created)} UTC</span>}
            {canDelete(n) && (
              <button type="button" className="link" onClick={() => onDelete(n)} aria-label={`Delete note by ${n.author}`}>
                Delete
              </button>
            )}
          </p>
          <p className="note-text">{n.text}</p>
        </li>
      ))}
    </ol>
  );
}

function NoteForm({ onAdd }: { onAdd: (text: string) => Promise<boolean> }) {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const p = noteProblem(text);
    setProblem(p);
    if (p !== undefined) {
      return;
    }
    setBusy(true);
    if (await onAdd(text)) {
      setText("");
    }
    setBusy(false);
  };

  return (
    <form onSubmit={(e) => void submit(e)} aria-label="New note">
      <label htmlFor="note-text">Add a note</label>
      <textarea id="note-text" rows={3} value={text} onChange={(e) => setText(e.target.value)} />
      {problem !== undefined && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Adding…" : "Add note"}
      </button>
    </form>
  );
}
