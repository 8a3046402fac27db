package cli

import (
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"
)

// A call refused for its role and one refused for its token's scopes
// need different fixes, and the message says which.
func TestExplainPermissionDenied(t *testing.T) {
	role := ExplainError(connect.NewError(connect.CodePermissionDenied, errors.New("permission denied: your role does not allow this call")))
	if !strings.Contains(role.Error(), "ask an admin for a role") {
		t.Errorf("role refusal explained as %q", role)
	}
	scope := ExplainError(connect.NewError(connect.CodePermissionDenied, errors.New("permission denied: the API token's scopes do not allow this call")))
	if !strings.Contains(scope.Error(), "--scope") || strings.Contains(scope.Error(), "for a role") {
		t.Errorf("scope refusal explained as %q", scope)
	}
	if got := ExplainError(connect.NewError(connect.CodePermissionDenied, errors.New("x"))); connect.CodeOf(got) != connect.CodePermissionDenied {
		t.Errorf("explained error lost its code: %v", got)
	}
}
