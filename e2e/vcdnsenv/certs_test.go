package vcdnsenv

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vcdns/vcdns/e2e/landscape"
)

// TestCentralDNSCertSecrets: the Secrets are exactly those config/default mounts, and
// each holds a key pair whose certificate its ca.crt verifies for its usage.
func TestCentralDNSCertSecrets(t *testing.T) {
	t.Parallel()
	secrets, err := CentralDNSCertSecrets()
	if err != nil {
		t.Fatal(err)
	}
	root, err := landscape.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Render(filepath.Join(root, "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	var mounted []string
	for _, o := range objs {
		volumes, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "volumes")
		for _, v := range volumes {
			if name, ok, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName"); ok {
				mounted = append(mounted, name)
			}
		}
	}
	var made []string
	for _, s := range secrets {
		made = append(made, s.Name)
		pair, err := tls.X509KeyPair(s.Data["tls.crt"], s.Data["tls.key"])
		if err != nil {
			t.Fatalf("Secret %s: %v", s.Name, err)
		}
		cert, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(s.Data["ca.crt"]) {
			t.Fatalf("Secret %s: ca.crt does not parse", s.Name)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: cert.ExtKeyUsage}); err != nil || len(cert.ExtKeyUsage) == 0 {
			t.Errorf("Secret %s: certificate %s with usages %v: %v", s.Name, cert.Subject.CommonName, cert.ExtKeyUsage, err)
		}
	}
	slices.Sort(made)
	slices.Sort(mounted)
	if !slices.Equal(made, slices.Compact(mounted)) {
		t.Fatalf("made the Secrets %v, config/default mounts %v", made, mounted)
	}
}
