import { useState } from "react";

// Copies text to the clipboard. The Clipboard API needs a secure context
// (HTTPS or loopback), so elsewhere the button label asks for a manual copy.
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <button
      type="button"
      onClick={() => {
        if (navigator.clipboard === undefined) {
          setState("failed");
          return;
        }
        navigator.clipboard.writeText(text).then(
          () => setState("copied"),
          () => setState("failed"),
        );
      }}
    >
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed: select and copy by hand" : label}
    </button>
  );
}
