package auth

import (
	"errors"
	"strings"
	"sync"

	"connectrpc.com/grpchealth"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Role names as stored with each user.
const (
	RoleViewer  = "viewer"
	RoleAnalyst = "analyst"
	RoleAdmin   = "admin"
)

// ErrPermissionDenied is returned for a caller whose role is below what a
// procedure requires.
var ErrPermissionDenied = errors.New("permission denied: your role does not allow this call")

// ParseRole maps a stored role name to its Role. Unknown names map to
// ROLE_UNSPECIFIED, which no procedure accepts.
func ParseRole(name string) apiv1.Role {
	switch name {
	case RoleViewer:
		return apiv1.Role_ROLE_VIEWER
	case RoleAnalyst:
		return apiv1.Role_ROLE_ANALYST
	case RoleAdmin:
		return apiv1.Role_ROLE_ADMIN
	}
	return apiv1.Role_ROLE_UNSPECIFIED
}

// RoleName is the stored name of r, or "" for ROLE_UNSPECIFIED.
func RoleName(r apiv1.Role) string {
	switch r {
	case apiv1.Role_ROLE_VIEWER:
		return RoleViewer
	case apiv1.Role_ROLE_ANALYST:
		return RoleAnalyst
	case apiv1.Role_ROLE_ADMIN:
		return RoleAdmin
	}
	return ""
}

// Allows reports whether role may call a procedure with rule access.
func Allows(role apiv1.Role, access apiv1.Access) bool {
	switch access {
	case apiv1.Access_ACCESS_PUBLIC:
		return true
	case apiv1.Access_ACCESS_VIEWER:
		return role >= apiv1.Role_ROLE_VIEWER
	case apiv1.Access_ACCESS_ANALYST:
		return role >= apiv1.Role_ROLE_ANALYST
	case apiv1.Access_ACCESS_ADMIN:
		return role >= apiv1.Role_ROLE_ADMIN
	}
	return false
}

var (
	accessOnce  sync.Once
	accessRules map[string]apiv1.Access
	// readOnly holds the procedures declared idempotency_level =
	// NO_SIDE_EFFECTS.
	readOnly map[string]bool
	// scopeRules is the token scope each procedure needs, and
	// scopeResources the resource names the services declare.
	scopeRules     map[string]scopeRule
	scopeResources map[string]bool
)

// AccessOf returns the access rule declared on the procedure
// ("/decnet.api.v1.EventService/ListEvents"), or ACCESS_UNSPECIFIED for a
// procedure that declares none or is unknown.
func AccessOf(procedure string) apiv1.Access {
	accessOnce.Do(loadAccessRules)
	return accessRules[procedure]
}

// ChangesNothing reports whether the procedure declares
// idempotency_level = NO_SIDE_EFFECTS. Unknown procedures may change
// something.
func ChangesNothing(procedure string) bool {
	accessOnce.Do(loadAccessRules)
	return readOnly[procedure]
}

// loadAccessRules reads the access option, idempotency level and scope
// of every method of the API package from the registered descriptors, and
// adds the health procedures.
func loadAccessRules() {
	rules := make(map[string]apiv1.Access)
	reads := make(map[string]bool)
	scopes := make(map[string]scopeRule)
	resources := make(map[string]bool)
	protoregistry.GlobalFiles.RangeFilesByPackage("decnet.api.v1", func(fd protoreflect.FileDescriptor) bool {
		services := fd.Services()
		for i := range services.Len() {
			svc := services.Get(i)
			resource := ServiceScope(svc)
			if resource != "" {
				resources[resource] = true
			}
			methods := svc.Methods()
			for j := range methods.Len() {
				m := methods.Get(j)
				procedure := "/" + string(svc.FullName()) + "/" + string(m.Name())
				rules[procedure] = MethodAccess(m)
				opts, _ := m.Options().(*descriptorpb.MethodOptions)
				read := opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS
				if read {
					reads[procedure] = true
				}
				scopes[procedure] = methodScope(opts, resource, read)
			}
		}
		return true
	})
	for _, procedure := range []string{HealthCheckProcedure, HealthWatchProcedure} {
		rules[procedure] = apiv1.Access_ACCESS_PUBLIC
		reads[procedure] = true
	}
	accessRules, readOnly = rules, reads
	scopeRules, scopeResources = scopes, resources
}

// ServiceScope returns the scope option of one service descriptor: the
// resource name of its procedures in token scopes.
func ServiceScope(svc protoreflect.ServiceDescriptor) string {
	opts, ok := svc.Options().(*descriptorpb.ServiceOptions)
	if !ok || opts == nil {
		return ""
	}
	name, _ := proto.GetExtension(opts, apiv1.E_Scope).(string)
	return name
}

// methodScope returns the scope a method needs: its method_scope option
// when set, otherwise its service's resource with read for a method that
// changes nothing and write for any other. A service without a resource
// gives a rule no scope but "*" grants.
func methodScope(opts *descriptorpb.MethodOptions, resource string, read bool) scopeRule {
	if opts != nil {
		if named, _ := proto.GetExtension(opts, apiv1.E_MethodScope).(string); named != "" {
			res, access, _ := strings.Cut(named, ":")
			return scopeRule{resource: res, write: access != scopeRead}
		}
	}
	if resource == "" {
		return scopeRule{resource: ScopeAll, write: true}
	}
	return scopeRule{resource: resource, write: !read}
}

// MethodAccess returns the access option of one method descriptor.
func MethodAccess(m protoreflect.MethodDescriptor) apiv1.Access {
	opts, ok := m.Options().(*descriptorpb.MethodOptions)
	if !ok || opts == nil {
		return apiv1.Access_ACCESS_UNSPECIFIED
	}
	access, ok := proto.GetExtension(opts, apiv1.E_Access).(apiv1.Access)
	if !ok {
		return apiv1.Access_ACCESS_UNSPECIFIED
	}
	return access
}

// The standard gRPC health procedures served beside the API. Load
// balancers and orchestrators probe them without a session, and their
// descriptors belong to grpc.health.v1, which carries no access option, so
// their rule is declared here: public and read-only.
const (
	HealthCheckProcedure = "/" + grpchealth.HealthV1ServiceName + "/Check"
	HealthWatchProcedure = "/" + grpchealth.HealthV1ServiceName + "/Watch"
)

func isHealthProcedure(procedure string) bool {
	return procedure == HealthCheckProcedure || procedure == HealthWatchProcedure
}

// hasAccessRule reports whether the procedure has a declared rule: every
// procedure of the API package and the health procedures. Other paths
// are downloads and streams, which take a viewer.
func hasAccessRule(procedure string) bool {
	return isAPIProcedure(procedure) || isHealthProcedure(procedure)
}

// isAPIProcedure reports whether the procedure belongs to the API package,
// whose procedures all carry access rules.
func isAPIProcedure(procedure string) bool {
	return strings.HasPrefix(procedure, "/decnet.api.v1.")
}
