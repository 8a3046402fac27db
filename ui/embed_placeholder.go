//go:build !uidist

package ui

import "embed"

// Page served when the binary is built without the uidist tag, so that
// `go build ./...` works without Node.js and a built dashboard.
//
//go:embed all:placeholder
var assets embed.FS

const assetsRoot = "placeholder"
