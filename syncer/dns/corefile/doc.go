// Package corefile keeps a marked server block in a cluster's CoreDNS Corefile that
// forwards the base domain to the central DNS:
//
//	# BEGIN vcdns: managed by the vcdns syncer, changes between these lines are overwritten
//	openmcp.cluster:53 {
//	    bind 10.96.0.10
//	    errors
//	    cache 30 {
//	        disable denial
//	    }
//	    forward . 10.96.0.53
//	}
//	# END vcdns
//
// Patch writes or rewrites the block and leaves every byte outside the markers as it
// is; Remove takes it out. Both are pure and idempotent. Input and output are parsed
// with the Caddyfile parser CoreDNS uses (github.com/coredns/caddy), without reading
// imported files and without substituting environment variables; Patch also checks,
// as CoreDNS would at start, that no other server block serves the zone on the same
// port. A Corefile that does not parse, or would not parse after the change, is
// refused with an error and never changed.
//
// The block listens where the Corefile's root server block (".") listens: on its port,
// and on the addresses of its bind directives, which are copied (a block without
// them would make CoreDNS fail to listen when the root binds to a specific address).
package corefile
