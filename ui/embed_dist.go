//go:build uidist

package ui

import "embed"

// Built dashboard, written by `npm run build` in this directory. The all:
// prefix keeps files whose names start with "_" or ".", which Vite can emit
// for chunks.
//
//go:embed all:dist
var assets embed.FS

const assetsRoot = "dist"
