// ATT&CK techniques, attacker identities and exports on the attacker page.

import { Code, ConnectError } from "@connectrpc/connect";

import { ExportFormat } from "./gen/decnet/api/v1/attacker_service_pb";

// Technique ids as MITRE publishes them: T1110, or T1110.001 for a
// sub-technique.
const techniqueIdPattern = /^T\d{4}(\.\d{3})?$/;

// Returns the technique's page at attack.mitre.org, where a sub-technique
// lives under its parent (T1110.001 is /techniques/T1110/001/). An id of
// any other shape gets no link, so nothing the server stored can steer the
// link elsewhere.
export function techniqueUrl(techniqueId: string): string {
  if (!techniqueIdPattern.test(techniqueId)) {
    return "";
  }
  return `https://attack.mitre.org/techniques/${techniqueId.replace(".", "/")}/`;
}

// The members of an identity other than the attacker on screen.
export function otherMembers(attackerIds: readonly string[], attackerId: string): string[] {
  return attackerIds.filter((id) => id !== attackerId);
}

// Returns the attacker's identity, or null when it has none yet. The server
// returns NotFound until the clustering has grouped its sessions.
export async function identityOrNull<T>(load: Promise<{ identity?: T }>): Promise<T | null> {
  try {
    return (await load).identity ?? null;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.NotFound) {
      return null;
    }
    throw err;
  }
}

export interface ExportChoice {
  format: ExportFormat;
  label: string;
  suffix: string;
}

export const exportChoices: readonly ExportChoice[] = [
  { format: ExportFormat.STIX, label: "STIX 2.1", suffix: "stix.json" },
  { format: ExportFormat.MISP, label: "MISP", suffix: "misp.json" },
];

// What an export describes: an attacker, an identity or a campaign.
export type ExportKind = "attacker" | "identity" | "campaign";

// Names the downloaded file after what it describes. The id may come from
// the URL, so anything outside a UUID's alphabet is dropped.
export function exportFileName(id: string, choice: ExportChoice, kind: ExportKind = "attacker"): string {
  const safe = id.replace(/[^A-Za-z0-9-]/g, "").slice(0, 64) || kind;
  return `${kind}-${safe}.${choice.suffix}`;
}

// A safety margin, not a measured figure, so that a browser which reads
// the blob after click() returns still finds the URL alive.
const revokeDelayMs = 10_000;

// Saves document as a file through a temporary anchor. The blob: URL is
// navigated to, not fetched, so the page's connect-src does not apply.
export function saveDocument(document: Uint8Array, contentType: string, fileName: string): void {
  const blob = new Blob([document.slice()], { type: contentType || "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const anchor = globalThis.document.createElement("a");
  anchor.href = url;
  anchor.download = fileName;
  anchor.rel = "noopener";
  anchor.style.display = "none";
  globalThis.document.body.append(anchor);
  try {
    anchor.click();
  } finally {
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), revokeDelayMs);
  }
}
