// Notes, tags and triage status of an attacker: the parsing and labels the
// annotation panel uses. The server checks the same rules; checking them
// here too lets the form say what is wrong before a round trip.

import { TriageStatus } from "./gen/decnet/api/v1/annotation_service_pb";

export const maxNoteChars = 4000;
export const maxTags = 16;
export const maxTagChars = 40;

const tagPattern = /^[a-z0-9._:-]+$/;

export type TagParse = { tags: string[]; error?: undefined } | { tags?: undefined; error: string };

// Splits what the user typed (commas or spaces between tags) into the tags
// the server stores: lower case, without duplicates, in the order typed.
export function parseTags(input: string): TagParse {
  const tags: string[] = [];
  for (const raw of input.split(/[\s,]+/)) {
    const tag = raw.trim().toLowerCase();
    if (tag === "" || tags.includes(tag)) {
      continue;
    }
    if (tag.length > maxTagChars) {
      return { error: `"${tag}" is longer than ${maxTagChars} characters.` };
    }
    if (!tagPattern.test(tag)) {
      return { error: `"${tag}" has a character other than letters, digits and . - _ :` };
    }
    tags.push(tag);
  }
  if (tags.length > maxTags) {
    return { error: `${tags.length} tags; an attacker has at most ${maxTags}.` };
  }
  return { tags };
}

// Returns why a note cannot be saved, or undefined when it can.
export function noteProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") {
    return "Write the note first.";
  }
  if ([...trimmed].length > maxNoteChars) {
    return `The note is longer than ${maxNoteChars} characters.`;
  }
  return undefined;
}

export const triageChoices: readonly { status: TriageStatus; label: string }[] = [
  { status: TriageStatus.NEW, label: "new" },
  { status: TriageStatus.ACKNOWLEDGED, label: "acknowledged" },
  { status: TriageStatus.FALSE_POSITIVE, label: "false positive" },
];

export function triageLabel(status: TriageStatus): string {
  return triageChoices.find((c) => c.status === status)?.label ?? "new";
}
