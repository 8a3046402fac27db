package enroll

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// TokenEnv is the environment variable that may carry the bootstrap token.
const TokenEnv = "DECNET_ENROLL_TOKEN" //nolint:gosec // G101: a variable name, not a token

// maxTokenFileBytes bounds what TokenFromSources reads from a token file;
// an encoded token is about 110 bytes.
const maxTokenFileBytes = 4096

// TokenFromSources returns the bootstrap token from exactly one of the
// --token flag value, the file named by --token-file and the
// DECNET_ENROLL_TOKEN variable read through getenv (nil means os.Getenv).
// Surrounding whitespace is trimmed from each source, and a source that is
// empty after trimming counts as not given.
func TokenFromSources(flagValue, filePath string, getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	flagValue = strings.TrimSpace(flagValue)
	envValue := strings.TrimSpace(getenv(TokenEnv))

	var sources []string
	if flagValue != "" {
		sources = append(sources, "--token")
	}
	if filePath != "" {
		sources = append(sources, "--token-file")
	}
	if envValue != "" {
		sources = append(sources, TokenEnv)
	}
	switch len(sources) {
	case 0:
		return "", fmt.Errorf("missing bootstrap token: pass --token, --token-file or set %s", TokenEnv)
	case 1:
	default:
		return "", fmt.Errorf("bootstrap token given by %s; pass exactly one", strings.Join(sources, " and "))
	}

	switch {
	case flagValue != "":
		return flagValue, nil
	case envValue != "":
		return envValue, nil
	}
	return readTokenFile(filePath)
}

func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only

	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("read token file %s: %w", path, err)
	}
	if len(data) > maxTokenFileBytes {
		return "", fmt.Errorf("token file %s is larger than %d bytes; it should contain only the token", path, maxTokenFileBytes)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return token, nil
}
