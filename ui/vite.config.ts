import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// API server that `npm run dev` forwards Connect requests to, so the dev
// server and the API share one origin as they do when decnet serves the
// embedded build.
const apiTarget = process.env.DECNET_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    // The Go handler gives files under assets/ a one-year immutable cache
    // because Vite puts a content hash in each of their names.
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    proxy: {
      // Connect paths start with the proto package, e.g.
      // /decnet.api.v1.EventService/StreamEvents.
      "^/decnet\\.api\\.v1\\.": { target: apiTarget, changeOrigin: false },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
