// Display of captured credentials.

import { create } from "@bufbuild/protobuf";

import { formatSecret } from "./format";
import type { Credential } from "./gen/decnet/api/v1/credential_service_pb";
import type { CredentialReuse } from "./gen/decnet/api/v1/notice_pb";
import { AuthAttemptSchema } from "./gen/decnet/event/v1/event_pb";

// Shown instead of a secret the server withheld because of the caller's role.
export const maskedSecretText = "hidden for your role";

// Returns the secret of c as displayed once revealed, or maskedSecretText
// when the server masked it.
export function credentialSecretText(c: Credential): string {
  if (c.secretMasked) {
    return maskedSecretText;
  }
  return formatSecret(
    create(AuthAttemptSchema, {
      secretKind: c.secretKind,
      secret: c.secret,
      keyType: c.keyType,
      keyFingerprint: c.keyFingerprint,
    }),
  );
}

// Lists the targets of a reused credential as "decky/service ×attempts",
// most attempts first.
export function reuseTargets(reuse: CredentialReuse): string {
  return [...reuse.targets]
    .sort((a, b) => Number(b.attempts - a.attempts))
    .map((t) => `${t.decky}/${t.service} ×${t.attempts.toString()}`)
    .join(", ");
}

// Counts the distinct attackers across the targets of a reused credential.
export function reuseAttackerCount(reuse: CredentialReuse): number {
  return new Set(reuse.targets.flatMap((t) => t.attackerIds)).size;
}
