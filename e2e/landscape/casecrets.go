package landscape

import (
	"crypto/x509"
	"net"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CA is a certificate authority whose certificates go to Pods as Secrets, as a
// cluster's cert-manager would make them.
type CA struct {
	ca *certAuthority
}

// NewCA makes a self-signed CA named cn.
func NewCA(cn string) (*CA, error) {
	ca, err := newCA(cn)
	if err != nil {
		return nil, err
	}
	return &CA{ca: ca}, nil
}

// CertSpec is what a certificate of a CA says.
type CertSpec struct {
	CommonName  string
	DNSNames    []string
	IPAddresses []net.IP
	// Usages are the extended key usages (server auth, client auth).
	Usages []x509.ExtKeyUsage
}

// TLSSecret issues a certificate for a new key and returns it as the Secret ns/name
// in cert-manager's layout: type kubernetes.io/tls, keys tls.crt, tls.key and ca.crt.
func (c *CA) TLSSecret(ns, name string, spec CertSpec) (*corev1.Secret, error) {
	certPEM, keyPEM, err := c.ca.issue(certRequest{CommonName: spec.CommonName, Usages: spec.Usages, DNSNames: spec.DNSNames, IPAddresses: spec.IPAddresses})
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       certPEM,
			corev1.TLSPrivateKeyKey: keyPEM,
			"ca.crt":                c.ca.PEM,
		},
	}, nil
}
