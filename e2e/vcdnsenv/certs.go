package vcdnsenv

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/vcdns/vcdns/e2e/landscape"
)

// certificate is the part of a cert-manager Certificate (cert-manager.io/v1) that
// says what to issue.
type certificate struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		IsCA        bool     `json:"isCA"`
		SecretName  string   `json:"secretName"`
		CommonName  string   `json:"commonName"`
		DNSNames    []string `json:"dnsNames"`
		IPAddresses []string `json:"ipAddresses"`
		Usages      []string `json:"usages"`
	} `json:"spec"`
}

// extKeyUsages maps cert-manager's usages to extended key usages; the others (digital
// signature) every certificate of the landscape's CA has.
var extKeyUsages = map[string]x509.ExtKeyUsage{
	"server auth": x509.ExtKeyUsageServerAuth,
	"client auth": x509.ExtKeyUsageClientAuth,
}

// CentralDNSCertSecrets issues the certificates of the central etcd as
// config/samples/cert-manager/etcd-certificates.yaml asks cert-manager to: one CA,
// and for every Certificate that is not the CA a Secret of its secretName with its
// common name, DNS names, IP addresses and usages (tls.crt, tls.key, ca.crt), which
// config/central-dns and config/syncer mount.
func CentralDNSCertSecrets() ([]*corev1.Secret, error) {
	root, err := landscape.RepoRoot()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(root, "config", "samples", "cert-manager", "etcd-certificates.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ca, err := landscape.NewCA("vcdns-etcd-ca")
	if err != nil {
		return nil, err
	}
	var secrets []*corev1.Secret
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var c certificate
		if err := dec.Decode(&c); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if c.Kind != "Certificate" || c.Spec.IsCA {
			continue
		}
		spec := landscape.CertSpec{CommonName: c.Spec.CommonName, DNSNames: c.Spec.DNSNames}
		for _, ip := range c.Spec.IPAddresses {
			spec.IPAddresses = append(spec.IPAddresses, net.ParseIP(ip))
		}
		for _, u := range c.Spec.Usages {
			if eku, ok := extKeyUsages[u]; ok {
				spec.Usages = append(spec.Usages, eku)
			}
		}
		s, err := ca.TLSSecret(c.Metadata.Namespace, c.Spec.SecretName, spec)
		if err != nil {
			return nil, fmt.Errorf("certificate %s of %s: %w", c.Spec.SecretName, path, err)
		}
		secrets = append(secrets, s)
	}
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%s has no Certificate", path)
	}
	return secrets, nil
}
