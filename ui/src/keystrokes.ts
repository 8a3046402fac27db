// Words for the typing rhythm of a session, shown under its replay.

import type { Keystrokes } from "./gen/decnet/api/v1/session_service_pb";

export interface KeystrokeFact {
  label: string;
  value: string;
}

function ms(v: number): string {
  return `${Math.round(v)} ms`;
}

// Facts about how the session was typed, or an empty list when nothing
// was typed.
export function keystrokeFacts(k: Keystrokes | undefined): KeystrokeFact[] {
  if (k === undefined || (k.keys === 0 && k.pastes === 0)) {
    return [];
  }
  const facts: KeystrokeFact[] = [
    { label: "keys typed", value: String(k.keys) },
    { label: "pastes", value: k.pastes === 0 ? "none" : `${k.pastes} (${k.pasteChars} characters)` },
    { label: "pauses of 2 s or more", value: String(k.thinkPauses) },
  ];
  if (k.intervals > 0) {
    facts.push({
      label: "time between keys",
      value: `median ${ms(k.medianMs)}, middle half ${ms(k.p25Ms)} to ${ms(k.p75Ms)}, 90% under ${ms(k.p90Ms)} (${k.intervals} intervals)`,
    });
    facts.push({ label: "rhythm hash", value: k.digraphSimhash });
  }
  return facts;
}

// A rough reading for people: pasted input and machine-regular timing
// point to a script, human typing varies.
export function keystrokeReading(k: Keystrokes | undefined): string {
  if (k === undefined || (k.keys === 0 && k.pastes === 0)) {
    return "No input was typed in this session.";
  }
  if (k.keys === 0) {
    return "Every command arrived whole, as a script or a paste sends it.";
  }
  if (k.intervals >= 10 && k.stdLogMs < 0.15) {
    return "The keys came at machine-regular intervals, as a script replaying keystrokes sends them.";
  }
  return "The keys came at irregular intervals, as a person types.";
}
