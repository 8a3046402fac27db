import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { credentialSecretText, maskedSecretText, reuseAttackerCount, reuseTargets } from "./credential";
import { CredentialSchema } from "./gen/decnet/api/v1/credential_service_pb";
import { CredentialReuseSchema } from "./gen/decnet/api/v1/notice_pb";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("credentialSecretText", () => {
  it("says the secret is hidden when the server masked it", () => {
    const c = create(CredentialSchema, {
      principal: "root",
      secretKind: "plaintext",
      secretMasked: true,
      secretSha256: new Uint8Array([1, 2, 3]),
    });
    expect(credentialSecretText(c)).toBe("hidden for your role");
    expect(maskedSecretText).toBe("hidden for your role");
  });

  it("shows a masked secret as hidden even if bytes came along", () => {
    const c = create(CredentialSchema, { secretKind: "plaintext", secret: utf8("leak"), secretMasked: true });
    expect(credentialSecretText(c)).toBe(maskedSecretText);
  });

  it("shows a plaintext secret with control characters escaped", () => {
    const c = create(CredentialSchema, { secretKind: "plaintext", secret: utf8("pa\u0007ss") });
    expect(credentialSecretText(c)).toBe("pa\\x07ss");
  });

  it("shows a public key by type and fingerprint", () => {
    const c = create(CredentialSchema, {
      secretKind: "ssh_publickey",
      secret: new Uint8Array([0, 1]),
      keyType: "ssh-ed25519",
      keyFingerprint: "SHA256:abc",
    });
    expect(credentialSecretText(c)).toBe("ssh-ed25519 SHA256:abc");
  });

  it("shows an empty unmasked secret as empty", () => {
    expect(credentialSecretText(create(CredentialSchema, { secretKind: "plaintext" }))).toBe("(empty)");
  });
});

describe("credential reuse display", () => {
  const reuse = create(CredentialReuseSchema, {
    principal: "root",
    secretKind: "plaintext",
    targets: [
      { decky: "web", service: "ssh", attempts: 2n, attackerIds: ["a", "b"] },
      { decky: "db", service: "telnet", attempts: 5n, attackerIds: ["b", "c"] },
    ],
  });

  it("lists targets by attempts, most first", () => {
    expect(reuseTargets(reuse)).toBe("db/telnet ×5, web/ssh ×2");
  });

  it("counts distinct attackers across targets", () => {
    expect(reuseAttackerCount(reuse)).toBe(3);
  });
});
