/*
Copyright The vcdns Authors.
*/

// Package naming holds the deterministic names vcdns gives to what it creates: the
// namespace of a Managed Control Plane (MCP) and the names of object copies inside it,
// and the label and annotation keys that record where a copy came from.
//
// Every name here is a pure function of its inputs, so it survives backup and restore
// and a restarted syncer finds exactly the objects it made before.
package naming

import (
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/sha3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultNamespacePrefix is the default prefix of MCP namespaces.
const DefaultNamespacePrefix = "mcp-"

// Keys of the labels and annotations vcdns puts on the objects it creates.
const (
	// LabelMCP is a label on every MCP namespace and every copy; its value is the MCP
	// namespace name (at most 63 characters, see ValidatePrefix), so that all copies of
	// one MCP can be selected.
	LabelMCP = "vcdns.io/mcp"

	// AnnotationMCP records the MCP a copy belongs to as "<mcp namespace>/<mcp name>"
	// (the ManagedControlPlane object on the platform cluster).
	AnnotationMCP = "vcdns.io/mcp"
	// AnnotationTenantNamespace records the namespace of the tenant object, inside the
	// MCP, that a copy was made from.
	AnnotationTenantNamespace = "vcdns.io/tenant-namespace"
	// AnnotationTenantName records the name of the tenant object.
	AnnotationTenantName = "vcdns.io/tenant-name"
	// AnnotationTenantUID records the UID of the tenant object.
	AnnotationTenantUID = "vcdns.io/tenant-uid"
	// AnnotationTenantKind records the kind of the tenant object ("Service", "Gateway",
	// "HTTPRoute", "Ingress").
	AnnotationTenantKind = "vcdns.io/tenant-kind"
	// AnnotationTenantLabels records, comma-separated and sorted, the label keys a copy
	// carries because the tenant object had them, so that a label the tenant removes is
	// removed from the copy while labels others add to the copy are left alone.
	AnnotationTenantLabels = "vcdns.io/tenant-labels"

	// ClusterIPAnnotation is the annotation on a tenant Service that holds the
	// ClusterIPs of its copy, comma-separated in the order of the copy's
	// spec.clusterIPs. The syncer is its only writer.
	ClusterIPAnnotation = "transparency.tenancy.x-k8s.io/clusterIP"
)

// Domain is the DNS domain of vcdns' own label and annotation keys. Keys in it (and in
// its subdomains) on tenant objects are never copied.
const Domain = "vcdns.io"

// uuidLength is the length of a UUID in its textual form.
const uuidLength = 36

// MaxPrefixLength is the longest namespace prefix for which MCP namespace names stay
// valid namespace names and label values (63 characters).
const MaxPrefixLength = validation.DNS1123LabelMaxLength - uuidLength

// MCPNamespace returns the name of the namespace of the MCP namespace/name: prefix
// followed by the 128-bit SHAKE128 hash of "<namespace>/<name>", printed as a version 8
// UUID (RFC 9562: the 4 version bits set to 0b1000, the 2 variant bits to 0b10).
//
// Example: MCPNamespace("mcp-", "team-a", "mcp1") is
// "mcp-d99bb272-f1e2-8297-8a42-8b0ff70fcfec". The result is a valid namespace name
// whenever ValidatePrefix(prefix) returns nil.
func MCPNamespace(prefix, namespace, name string) string {
	var sum [16]byte
	h := sha3.NewShake128()
	_, _ = h.Write([]byte(namespace + "/" + name))
	_, _ = h.Read(sum[:])
	sum[6] = sum[6]&0x0f | 0x80 // version 8
	sum[8] = sum[8]&0x3f | 0x80 // variant 0b10

	var buf [uuidLength]byte
	hex.Encode(buf[0:8], sum[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], sum[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], sum[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], sum[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], sum[10:16])
	return prefix + string(buf[:])
}

// ValidatePrefix returns an error if MCP namespaces with this prefix would not be valid
// namespace names (DNS-1123 labels) or label values.
func ValidatePrefix(prefix string) error {
	if len(prefix) > MaxPrefixLength {
		return fmt.Errorf("namespace prefix %q is longer than %d characters", prefix, MaxPrefixLength)
	}
	example := MCPNamespace(prefix, "", "")
	if errs := validation.IsDNS1123Label(example); len(errs) > 0 {
		return fmt.Errorf("namespace prefix %q does not make valid namespace names: %s", prefix, strings.Join(errs, "; "))
	}
	return nil
}

const (
	// CopyNameHashLength is the number of characters of the hash that ends every copy
	// name: 80 bits of SHAKE128, base32-encoded.
	CopyNameHashLength = 16
	// MaxCopyNameLength is the longest copy name CopyName returns. It is shorter than a
	// DNS label (63) on purpose: gateway controllers derive the names of the Services and
	// Deployments they create for a Gateway from its name plus a suffix or prefix (Istio
	// "<gateway>-<class>", Cilium "cilium-gateway-<gateway>"), and 16 spare characters
	// keep those names valid.
	MaxCopyNameLength = 47
	// maxReadableLength is the room left for the readable part of a copy name.
	maxReadableLength = MaxCopyNameLength - 1 - CopyNameHashLength
)

// copyHashEncoding is base32 in lower case without padding: only [a-z2-7].
var copyHashEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// CopyName returns the name of the copy of the tenant object namespace/name inside an
// MCP namespace.
//
// The name is "<readable>-<hash>": readable is "<namespace>-<name>" in lower case, with
// every character outside [a-z0-9-] replaced by "-", leading characters up to the first
// letter dropped and cut to 30 characters ("x" if nothing is left); hash is 16 base32
// characters (80 bits) of the SHAKE128 hash of the length-prefixed namespace followed
// by name, so that ("a-b", "c") and ("a", "b-c") get different names although their
// readable parts are equal.
//
// The result is always a valid DNS-1035 label (lower case, starts with a letter, ends
// with a letter or digit, at most MaxCopyNameLength characters), so it is a valid name
// for every kind, Services included.
func CopyName(namespace, name string) string {
	return readable(namespace+"-"+name) + "-" + copyHash(namespace, name)
}

// copyHash is the hash part of CopyName: unambiguous because the length of namespace is
// hashed before namespace and name.
func copyHash(namespace, name string) string {
	var sum [10]byte
	h := sha3.NewShake128()
	_, _ = h.Write(binary.AppendUvarint(nil, uint64(len(namespace))))
	_, _ = h.Write([]byte(namespace))
	_, _ = h.Write([]byte(name))
	_, _ = h.Read(sum[:])
	return copyHashEncoding.EncodeToString(sum[:])
}

// readable turns s into the readable part of a copy name: [a-z0-9-]*, starting with a
// letter, not ending with "-", at most maxReadableLength characters, never empty.
func readable(s string) string {
	b := make([]byte, 0, maxReadableLength)
	for i := 0; i < len(s) && len(b) < maxReadableLength; i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
		default:
			c = '-'
		}
		if len(b) == 0 && (c < 'a' || c > 'z') {
			continue
		}
		b = append(b, c)
	}
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "x"
	}
	return string(b)
}
