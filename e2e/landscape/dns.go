package landscape

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Query asks server ("host:port") one question over network ("udp" or "tcp") and
// returns the response, whatever its rcode.
func Query(ctx context.Context, server, name string, qtype uint16, network string) (*dns.Msg, error) {
	if network != "udp" && network != "tcp" {
		return nil, fmt.Errorf("querying %s: network %q is neither udp nor tcp", server, network)
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err != nil {
		return nil, fmt.Errorf("querying %s %s over %s at %s: %w", name, dns.TypeToString[qtype], network, server, err)
	}
	return r, nil
}

// WaitForAnswer queries server over UDP every 100 milliseconds until want accepts the
// response, or ctx ends. It then returns the last mismatch (or query error) with the
// context's error.
func WaitForAnswer(ctx context.Context, server, name string, qtype uint16, want func(*dns.Msg) error) error {
	var last error
	for {
		r, err := Query(ctx, server, name, qtype, "udp")
		if err == nil {
			err = want(r)
		}
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("waiting for an answer to %s %s from %s: %w", name, dns.TypeToString[qtype], server, ctx.Err()), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RRValues returns the data of the records in rrs, one string each: the address of A
// and AAAA records, the target of PTR and CNAME records, "priority weight port target"
// of SRV records, and the text form without the header for others.
func RRValues(rrs []dns.RR) []string {
	values := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.A:
			values = append(values, rr.A.String())
		case *dns.AAAA:
			values = append(values, rr.AAAA.String())
		case *dns.PTR:
			values = append(values, rr.Ptr)
		case *dns.CNAME:
			values = append(values, rr.Target)
		case *dns.SRV:
			values = append(values, fmt.Sprintf("%d %d %d %s", rr.Priority, rr.Weight, rr.Port, rr.Target))
		default:
			values = append(values, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
	}
	return values
}
