package centraletcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// diagnoseTimeout bounds one look at why a connection fails.
const diagnoseTimeout = 5 * time.Second

// Conn is the syncer's connection to the central etcd: its client, and what it knows
// about etcd refusing it.
type Conn struct {
	// Client is the etcd client; Close closes it.
	Client *clientv3.Client

	opts Options
	tls  *tls.Config
	log  logr.Logger

	mu sync.Mutex
	// refused is why etcd refused the syncer the last time a request failed, nil
	// while it accepts it.
	refused *RefusedError
}

// Connect makes the client of valid options (Validate). It reads the TLS files now:
// one that cannot be read is an error. etcd is not contacted yet; a connection it
// refuses shows in the errors of requests, which Explain explains. zlog is the
// etcd client's logger, log the syncer's.
func Connect(opts Options, zlog *zap.Logger, log logr.Logger) (*Conn, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	tlsCfg, err := opts.TLSConfig(zlog)
	if err != nil {
		return nil, err
	}
	if opts.Plaintext() {
		// zap's Warn level: the log says so as a warning, not as information.
		zlog.Warn("The central etcd is reached over plain HTTP, as "+FlagInsecurePlaintext+
			" allows: what the syncer publishes goes unencrypted, and etcd cannot tell the syncer from anyone else who reaches it",
			zap.Strings("endpoints", opts.Endpoints))
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: opts.Endpoints, DialTimeout: 5 * time.Second, TLS: tlsCfg, Logger: zlog})
	if err != nil {
		return nil, fmt.Errorf("connecting to the central etcd: %w", err)
	}
	log.Info("Publishing into the central etcd", "endpoints", opts.Endpoints, "tls", tlsCfg != nil,
		"caFile", opts.CAFile, "certFile", opts.CertFile)
	return &Conn{Client: client, opts: opts, tls: tlsCfg, log: log}, nil
}

// Close closes the client.
func (c *Conn) Close() error { return c.Client.Close() }

// Check returns the RefusedError of the last failed request, looked at again: nil
// when etcd refused nothing, or accepts the syncer now. While etcd refuses the syncer,
// callers fail at once instead of waiting for their requests to time out.
func (c *Conn) Check(ctx context.Context) error {
	c.mu.Lock()
	refused := c.refused
	c.mu.Unlock()
	if refused == nil {
		return nil
	}
	if r := c.diagnose(ctx); r != nil {
		c.set(r)
		return r
	}
	return nil
}

// Explain is told the outcome of a request to etcd. When it failed, Explain looks at
// the TLS connection to every endpoint and returns a RefusedError saying why etcd
// refuses the syncer if it does, err otherwise. It logs when that changes: an error
// when etcd starts refusing the syncer, a line when it accepts it again.
func (c *Conn) Explain(ctx context.Context, err error) error {
	if err == nil {
		c.set(nil)
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	r := c.diagnose(ctx)
	c.set(r)
	if r != nil {
		return r
	}
	return err
}

func (c *Conn) set(r *RefusedError) {
	c.mu.Lock()
	old := c.refused
	c.refused = r
	c.mu.Unlock()
	switch {
	case r != nil && (old == nil || old.Error() != r.Error()):
		c.log.Error(r, "The central etcd refuses the syncer's TLS connection: nothing is published until it accepts it; what was published stays",
			"endpoint", r.Endpoint, "reason", r.Reason)
	case r == nil && old != nil:
		c.log.Info("The central etcd accepts the syncer's TLS connection again", "endpoint", old.Endpoint)
	}
}

// diagnose looks at the TLS connection to each endpoint; it returns the first
// refusal, nil when none refuses (or the endpoints are plain HTTP).
func (c *Conn) diagnose(ctx context.Context) *RefusedError {
	if c.tls == nil {
		return nil
	}
	for _, ep := range c.opts.Endpoints {
		ctx, cancel := context.WithTimeout(ctx, diagnoseTimeout)
		err := probe(ctx, ep, c.tls)
		cancel()
		if r := classify(ep, c.opts, err); r != nil {
			return r
		}
	}
	return nil
}

// probe makes a TLS connection to an https:// endpoint and asks it for /version: an
// error when the handshake fails or etcd answers with an alert (with TLS 1.3, etcd
// checks the client certificate after the client's part of the handshake is done).
func probe(ctx context.Context, endpoint string, cfg *tls.Config) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	d := &tls.Dialer{Config: cfg.Clone()}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(conn, "GET /version HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", u.Host); err != nil {
		return err
	}
	buf := make([]byte, 1)
	if _, err := conn.Read(buf); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
			// Accepted, and slow to answer.
			return nil
		}
		return err
	}
	return nil
}
