import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import { groupFingerprints } from "./fingerprints";
import { StoredEventSchema } from "./gen/decnet/api/v1/event_service_pb";

function fingerprinted(service: string, version: string, hassh: string, ms: number) {
  return create(StoredEventSchema, {
    event: {
      kind: "client.fingerprinted",
      service,
      time: timestampFromMs(ms),
      payload: { case: "clientFingerprinted", value: { sshClientVersion: version, hassh } },
    },
  });
}

describe("groupFingerprints", () => {
  it("counts repeats of one client and orders clients by last use", () => {
    const rows = groupFingerprints([
      fingerprinted("ssh", "SSH-2.0-Go", "aaa", 3000),
      fingerprinted("ssh", "SSH-2.0-OpenSSH_9.2p1", "bbb", 5000),
      fingerprinted("ssh", "SSH-2.0-Go", "aaa", 1000),
      create(StoredEventSchema, { event: { kind: "auth.attempt", service: "ssh" } }),
    ]);
    expect(rows.map((r) => [r.fingerprint.sshClientVersion, r.count, r.firstMs, r.lastMs])).toEqual([
      ["SSH-2.0-OpenSSH_9.2p1", 1, 5000, 5000],
      ["SSH-2.0-Go", 2, 1000, 3000],
    ]);
  });

  it("keeps two TLS clients apart by JA4", () => {
    const tls = (ja4: string, ms: number) =>
      create(StoredEventSchema, {
        event: {
          kind: "client.fingerprinted",
          service: "http",
          time: timestampFromMs(ms),
          payload: { case: "clientFingerprinted", value: { ja3: "same", ja4 } },
        },
      });
    const rows = groupFingerprints([tls("t13d1516h2_a_b", 1), tls("t12d0308h2_c_d", 2), tls("t13d1516h2_a_b", 3)]);
    expect(rows.map((r) => [r.fingerprint.ja4, r.count])).toEqual([
      ["t13d1516h2_a_b", 2],
      ["t12d0308h2_c_d", 1],
    ]);
  });

  it("keeps the same client on two services apart", () => {
    const rows = groupFingerprints([fingerprinted("ssh", "SSH-2.0-Go", "aaa", 1), fingerprinted("sftp", "SSH-2.0-Go", "aaa", 2)]);
    expect(rows).toHaveLength(2);
  });
});
