package centraletcd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"testing"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	withCert := Options{Endpoints: []string{"https://etcd:2379"}, CAFile: "/tls/ca.crt", CertFile: "/tls/tls.crt", KeyFile: "/tls/tls.key"}
	noCert := Options{Endpoints: []string{"https://etcd:2379"}, CAFile: "/tls/ca.crt"}
	alert := func(msg string) error {
		return &net.OpError{Op: "remote error", Err: errors.New(msg)}
	}
	tests := []struct {
		name        string
		opts        Options
		err         error
		wantReason  string // "": not a refusal
		wantMessage string
	}{
		{name: "no error", opts: withCert, err: nil},
		{name: "connection refused", opts: withCert, err: &net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}},
		{name: "timeout", opts: withCert, err: fmt.Errorf("reading: %w", errors.New("context deadline exceeded"))},
		{
			name: "wrong CA", opts: withCert,
			err:        &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted, wantMessage: "not signed by the CA of --central-etcd-ca-file (/tls/ca.crt)",
		},
		{
			name: "wrong CA, system CAs", opts: Options{Endpoints: []string{"https://etcd:2379"}},
			err:        x509.UnknownAuthorityError{},
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted, wantMessage: "not signed by the system's CAs",
		},
		{
			name: "wrong host", opts: withCert,
			err:        &tls.CertificateVerificationError{Err: x509.HostnameError{Host: "etcd"}},
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted, wantMessage: "not for etcd",
		},
		{
			name: "expired", opts: withCert,
			err:        &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}},
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted, wantMessage: "not valid",
		},
		{
			name: "no client certificate (TLS 1.3)", opts: noCert, err: alert("tls: certificate required"),
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdRefused, wantMessage: "the syncer has none: set --central-etcd-cert-file and --central-etcd-key-file",
		},
		{
			name: "no client certificate (TLS 1.2)", opts: noCert, err: alert("tls: bad certificate"),
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdRefused, wantMessage: "the syncer has none",
		},
		{
			name: "client certificate of another CA", opts: withCert, err: alert("tls: unknown certificate authority"),
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdRefused, wantMessage: "does not accept the syncer's client certificate --central-etcd-cert-file (/tls/tls.crt)",
		},
		{
			name: "client certificate files gone", opts: withCert, err: &fs.PathError{Op: "open", Path: "/tls/tls.crt", Err: fs.ErrNotExist},
			wantReason: vcdnsv1alpha1.ReasonCentralEtcdRefused, wantMessage: "cannot read its client certificate",
		},
		{name: "another file", opts: withCert, err: &fs.PathError{Op: "open", Path: "/etc/hosts", Err: fs.ErrNotExist}},
		{name: "another remote error", opts: withCert, err: alert("tls: protocol version not supported"), wantReason: vcdnsv1alpha1.ReasonCentralEtcdRefused, wantMessage: "alert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := classify("https://etcd:2379", tt.opts, tt.err)
			if tt.wantReason == "" {
				if r != nil {
					t.Fatalf("classify: %v, want no refusal", r)
				}
				return
			}
			if r == nil {
				t.Fatalf("classify: no refusal, want %s", tt.wantReason)
			}
			if r.Reason != tt.wantReason || !strings.Contains(r.Message, tt.wantMessage) {
				t.Errorf("classify: %s %q, want %s with %q", r.Reason, r.Message, tt.wantReason, tt.wantMessage)
			}
			if !errors.Is(r, tt.err) || AsRefused(fmt.Errorf("wrapped: %w", r)) != r {
				t.Errorf("the RefusedError does not wrap the error, or is not found in a chain")
			}
		})
	}
}
