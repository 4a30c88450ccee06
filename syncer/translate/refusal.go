/*
Copyright The vcdns Authors.
*/

package translate

import (
	"fmt"
	"strings"
)

// Refusal reports a part of a tenant object that was left out of its copy. The copy
// returned alongside is still valid and meant to be applied: it holds everything that
// was not refused. Refusals are meant for a condition or Event on the tenant object.
type Refusal struct {
	// Field is the path of the refused part in the tenant object, e.g.
	// "spec.rules[0].backendRefs[1]".
	Field string
	// Reason is one of the Reason constants, CamelCase.
	Reason string
	// Message says, for the tenant, what was refused and why.
	Message string
}

// Reasons of refusals.
const (
	// ReasonUnsupportedKind: a reference to a group/kind the syncer does not copy into
	// the MCP namespace (a parentRef that is not a Gateway, a backendRef that is not a
	// core Service, an Ingress resource backend, an extensionRef filter).
	ReasonUnsupportedKind = "UnsupportedKind"
	// ReasonRefNotPermitted: a reference to another namespace the tenant did not allow
	// (no ReferenceGrant for a backendRef, no listener allowing the route's namespace
	// for a parentRef).
	ReasonRefNotPermitted = "RefNotPermitted"
	// ReasonSecretsNotSynced: a reference to Secrets or ConfigMaps (TLS certificates, CA
	// bundles), which the syncer does not copy.
	ReasonSecretsNotSynced = "SecretsNotSynced"
	// ReasonNotAllowed: a field that would reach beyond the MCP namespace on the shared
	// workload cluster (addresses, infrastructure, default gateways).
	ReasonNotAllowed = "NotAllowed"
	// ReasonNotSupported: a field outside the Gateway API standard channel, which the
	// workload cluster's CRDs may not have.
	ReasonNotSupported = "NotSupported"
)

// String returns "<field>: <message>".
func (r Refusal) String() string {
	return fmt.Sprintf("%s: %s", r.Field, r.Message)
}

// maxMessageLength is the longest message a metav1.Condition may hold.
const maxMessageLength = 32768

// RefusalsMessage joins refusals into one message for a condition, "" for none, cut
// to the length a condition message may have.
func RefusalsMessage(refusals []Refusal) string {
	parts := make([]string, len(refusals))
	for i, r := range refusals {
		parts[i] = r.String()
	}
	return CutMessage(strings.Join(parts, "; "), maxMessageLength)
}

// CutMessage cuts msg to at most max bytes of valid UTF-8, saying so at its end, for
// fields of limited length (condition messages, Event notes).
func CutMessage(msg string, max int) string {
	if len(msg) <= max {
		return msg
	}
	const more = " (and more)"
	return strings.ToValidUTF8(msg[:max-len(more)], "") + more
}

// refusals collects refusals under field paths.
type refusals []Refusal

func (rs *refusals) add(reason, field, format string, args ...any) {
	*rs = append(*rs, Refusal{Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// MaxEventNote is the longest note (message) an Event may have.
const MaxEventNote = 1024

// EventNote cuts msg to the length of an Event's note; the API server refuses longer
// ones, and the Event would be lost.
func EventNote(msg string) string { return CutMessage(msg, MaxEventNote) }
