//go:build !unix

package spool

import "os"

// lockDir does nothing where flock is missing.
//
// NOTE: without a lock, two spools opened on one directory corrupt it.
func lockDir(string) (*os.File, error) {
	return nil, nil
}
