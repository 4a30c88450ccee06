// Package centraletcd connects the syncer to the central etcd the central DNS serves
// from: over mutual TLS (the syncer checks etcd's certificate against a CA and
// presents a client certificate of its own), or over plain HTTP only when a flag asks
// for it. When etcd refuses the connection, it says why in words an operator acts on
// (the wrong CA, no client certificate, one etcd does not trust), which the publisher
// puts into the conditions of what it publishes for.
package centraletcd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.uber.org/zap"
)

// Flag names of the syncer, named in errors and messages.
const (
	FlagEndpoints         = "--central-etcd-endpoints"
	FlagCAFile            = "--central-etcd-ca-file"
	FlagCertFile          = "--central-etcd-cert-file"
	FlagKeyFile           = "--central-etcd-key-file"
	FlagInsecurePlaintext = "--central-etcd-insecure-plaintext"
)

// Options are how the syncer reaches the central etcd.
type Options struct {
	// Endpoints are the client URLs, all https:// or, with InsecurePlaintext, all
	// http://.
	Endpoints []string
	// CAFile holds the CA certificates etcd's serving certificate must be signed by;
	// empty: the system's.
	CAFile string
	// CertFile and KeyFile are the client certificate the syncer presents, and its
	// key: both or neither. They are read again for every new connection, so that a
	// renewed certificate (a Secret's files change) is used without a restart.
	CertFile, KeyFile string
	// InsecurePlaintext allows http:// endpoints: what the syncer publishes goes
	// unencrypted, and etcd cannot tell the syncer from anyone else.
	InsecurePlaintext bool
}

// Validate checks the options without reading any file: the endpoints' schemes
// against InsecurePlaintext, and that certificate and key come together.
func (o Options) Validate() error {
	if len(o.Endpoints) == 0 {
		return fmt.Errorf("%s: no endpoint", FlagEndpoints)
	}
	plain, secure := 0, 0
	for _, ep := range o.Endpoints {
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%s: %q is not a URL like https://host:2379", FlagEndpoints, ep)
		}
		switch u.Scheme {
		case "https":
			secure++
		case "http":
			plain++
		default:
			return fmt.Errorf("%s: %q: want an https:// URL (or http:// with %s)", FlagEndpoints, ep, FlagInsecurePlaintext)
		}
	}
	if plain > 0 && secure > 0 {
		return fmt.Errorf("%s mixes https:// and http:// URLs: use one scheme", FlagEndpoints)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return fmt.Errorf("%s and %s go together: give both or neither", FlagCertFile, FlagKeyFile)
	}
	if plain > 0 {
		if !o.InsecurePlaintext {
			return fmt.Errorf("%s are plain http:// URLs: what the syncer publishes would go unencrypted and unauthenticated; use https:// URLs with %s, %s and %s, or set %s to allow plain HTTP",
				FlagEndpoints, FlagCAFile, FlagCertFile, FlagKeyFile, FlagInsecurePlaintext)
		}
		if o.CAFile != "" || o.CertFile != "" {
			return fmt.Errorf("%s, %s and %s are for https:// URLs, and %s are http://", FlagCAFile, FlagCertFile, FlagKeyFile, FlagEndpoints)
		}
		return nil
	}
	if o.InsecurePlaintext {
		return fmt.Errorf("%s allows http:// URLs, and %s are https://: drop the flag", FlagInsecurePlaintext, FlagEndpoints)
	}
	return nil
}

// Plaintext reports whether the endpoints are plain HTTP.
func (o Options) Plaintext() bool {
	u, err := url.Parse(o.Endpoints[0])
	return err == nil && u.Scheme == "http"
}

// TLSConfig is the client TLS configuration of valid options, nil for plain HTTP. It
// reads the CA file once, and the client certificate and key now (so that a path
// that does not exist fails here) and again for every new connection.
func (o Options) TLSConfig(logger *zap.Logger) (*tls.Config, error) {
	if o.Plaintext() {
		return nil, nil
	}
	info := transport.TLSInfo{CertFile: o.CertFile, KeyFile: o.KeyFile, TrustedCAFile: o.CAFile, Logger: logger}
	cfg, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the TLS files of the central etcd (%s %q, %s %q, %s %q): %w",
			FlagCAFile, o.CAFile, FlagCertFile, o.CertFile, FlagKeyFile, o.KeyFile, err)
	}
	if o.CAFile != "" && cfg.RootCAs == nil {
		return nil, errors.New(FlagCAFile + " holds no certificate")
	}
	return cfg, nil
}
