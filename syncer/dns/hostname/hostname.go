package hostname

import (
	"errors"
	"fmt"
	"strings"
)

const (
	// MaxLength is the longest hostname allowed, in characters, without a trailing dot.
	MaxLength = 253
	// MaxLabelLength is the longest label allowed, in characters.
	MaxLabelLength = 63
	// DefaultBaseDomain is the domain all published names live in.
	DefaultBaseDomain = "openmcp.cluster"
)

// ErrInvalid is wrapped by every error Validate returns.
var ErrInvalid = errors.New("invalid hostname")

// Validate reports whether name is a hostname vcdns can publish or match: lower-case
// letters, digits and hyphens in labels separated by dots, no label starting or ending
// with a hyphen, no empty label, no trailing dot, labels of at most 63 and names of at
// most 253 characters, and no wildcard other than a single "*" as the leftmost label of
// a longer name. IP addresses (an all-numeric last label) are not hostnames. The error
// wraps ErrInvalid and says what is wrong.
func Validate(name string) error {
	if name == "" {
		return invalid(name, "it is empty")
	}
	if len(name) > MaxLength {
		return invalid(name, fmt.Sprintf("it is %d characters long, more than %d", len(name), MaxLength))
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if l == "*" {
			if i != 0 {
				return invalid(name, "a wildcard \"*\" is allowed only as the leftmost label")
			}
			if len(labels) == 1 {
				return invalid(name, "a wildcard needs a domain after it")
			}
			continue
		}
		if err := checkLabel(l); err != "" {
			return invalid(name, fmt.Sprintf("label %d %s", i+1, err))
		}
	}
	if isNumeric(labels[len(labels)-1]) {
		return invalid(name, "its last label is numeric; IP addresses are not hostnames")
	}
	return nil
}

func invalid(name, why string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalid, truncate(name), why)
}

// truncate shortens names quoted in errors, so a hostile input does not produce a
// huge message.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// checkLabel returns why l is not a valid RFC 1123 label, or "".
func checkLabel(l string) string {
	switch {
	case l == "":
		return "is empty"
	case len(l) > MaxLabelLength:
		return fmt.Sprintf("is %d characters long, more than %d", len(l), MaxLabelLength)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Sprintf("%q starts or ends with a hyphen", truncate(l))
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			if c == '*' {
				return fmt.Sprintf("%q contains a wildcard; only a whole leftmost label may be \"*\"", truncate(l))
			}
			if c >= 'A' && c <= 'Z' {
				return fmt.Sprintf("%q contains an upper-case letter", truncate(l))
			}
			return fmt.Sprintf("%q contains the character %q", truncate(l), rune(c))
		}
	}
	return ""
}

func isNumeric(l string) bool {
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return l != ""
}

// IsWildcard reports whether name starts with the wildcard label "*".
func IsWildcard(name string) bool { return strings.HasPrefix(name, "*.") }

// Below reports whether name lies strictly below domain: "a.b.example.com" is below
// "example.com"; "example.com" is not below itself. Both are plain (non-wildcard)
// names; the comparison is textual.
func Below(name, domain string) bool {
	return len(name) > len(domain)+1 && strings.HasSuffix(name, domain) && name[len(name)-len(domain)-1] == '.'
}

// Matches reports whether pattern matches name: an exact name matches only itself, a
// wildcard "*.d" matches every name below d, and, when name is a wildcard "*.e" too,
// every e equal to or below d.
func Matches(pattern, name string) bool {
	if !IsWildcard(pattern) {
		return pattern == name
	}
	d := pattern[2:]
	if IsWildcard(name) {
		e := name[2:]
		return e == d || Below(e, d)
	}
	return Below(name, d)
}

// Join returns the name made of the given labels or names, skipping empty parts:
// Join("gateway", "c1", "openmcp.cluster") is "gateway.c1.openmcp.cluster".
func Join(parts ...string) string {
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	return strings.Join(nonEmpty, ".")
}

// ClusterDomain returns the domain the objects of cluster publish under by default:
// "<cluster>.<base>".
func ClusterDomain(cluster, base string) string { return Join(cluster, base) }

// GatewayDNSDomain returns the domain of the GatewayDNS names of a cluster and
// namespace: "gateway.<cluster>.<namespace>.clusters.<base>". Every name below it, and
// the name itself, resolves to the selected LoadBalancer Service's address.
func GatewayDNSDomain(cluster, namespace, base string) string {
	return Join("gateway", cluster, namespace, "clusters", base)
}

// ClustersDomain returns the domain reserved for GatewayDNS names, "clusters.<base>".
// The default Policy keeps cluster-published names out of it.
func ClustersDomain(base string) string { return Join("clusters", base) }
