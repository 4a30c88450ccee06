package centraletcd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
)

// RefusedError says why the TLS connection to the central etcd fails: the syncer does
// not trust etcd's certificate, or etcd does not accept the syncer's. Nothing is
// published while it lasts; what was published stays.
type RefusedError struct {
	// Endpoint is the URL the connection was made to.
	Endpoint string
	// Reason is a condition reason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted or
	// vcdnsv1alpha1.ReasonCentralEtcdRefused.
	Reason string
	// Message says what is wrong and which flag or certificate to look at.
	Message string
	// Err is the TLS error.
	Err error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the central etcd %s: %s: %v", e.Endpoint, e.Message, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// AsRefused returns the RefusedError in err's chain, or nil.
func AsRefused(err error) *RefusedError {
	var r *RefusedError
	if errors.As(err, &r) {
		return r
	}
	return nil
}

// classify explains an error of a TLS connection to endpoint made with opts: a
// RefusedError, or nil when err is not about certificates (etcd down, a network
// error).
func classify(endpoint string, opts Options, err error) *RefusedError {
	if err == nil {
		return nil
	}
	notTrusted := func(msg string) *RefusedError {
		return &RefusedError{Endpoint: endpoint, Reason: vcdnsv1alpha1.ReasonCentralEtcdNotTrusted, Message: msg, Err: err}
	}
	refused := func(msg string) *RefusedError {
		return &RefusedError{Endpoint: endpoint, Reason: vcdnsv1alpha1.ReasonCentralEtcdRefused, Message: msg, Err: err}
	}
	ca := "the system's CAs"
	if opts.CAFile != "" {
		ca = fmt.Sprintf("the CA of %s (%s)", FlagCAFile, opts.CAFile)
	}
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownAuthority):
		return notTrusted(fmt.Sprintf("its serving certificate is not signed by %s: the syncer does not trust it", ca))
	case errors.As(err, &hostname):
		return notTrusted(fmt.Sprintf("its serving certificate is not for %s", hostname.Host))
	case errors.As(err, &invalid):
		return notTrusted("its serving certificate is not valid (expired, or not for serving)")
	case errors.As(err, &verify):
		return notTrusted(fmt.Sprintf("its serving certificate does not verify against %s", ca))
	}
	var path *fs.PathError
	if errors.As(err, &path) && opts.CertFile != "" && (path.Path == opts.CertFile || path.Path == opts.KeyFile) {
		// The files went (a Secret's files are renewed by a rename, or were removed).
		return refused(fmt.Sprintf("the syncer cannot read its client certificate %s (%s) or key %s (%s)", FlagCertFile, opts.CertFile, FlagKeyFile, opts.KeyFile))
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		return nil
	}
	// A TLS alert from etcd: it does not accept the client certificate.
	alert := op.Err.Error()
	switch {
	case opts.CertFile == "":
		return refused(fmt.Sprintf("it asks for a client certificate, and the syncer has none: set %s and %s", FlagCertFile, FlagKeyFile))
	case strings.Contains(alert, "certificate required"):
		return refused(fmt.Sprintf("it asks for a client certificate, and the syncer presented none: check %s (%s)", FlagCertFile, opts.CertFile))
	case strings.Contains(alert, "certificate"):
		return refused(fmt.Sprintf("it does not accept the syncer's client certificate %s (%s): not signed by a CA etcd trusts (its --trusted-ca-file), expired, or not for client authentication", FlagCertFile, opts.CertFile))
	}
	return refused("it ends the TLS handshake with an alert")
}
