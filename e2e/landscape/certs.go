package landscape

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certAuthority is a CA of the landscape: it signs the certificates its servers serve
// and its clients present.
type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA certificate, PEM-encoded.
	PEM []byte
}

// certValidity is how long the landscape's certificates are valid, from an hour ago.
const certValidity = 10 * 365 * 24 * time.Hour

// newCA makes a self-signed CA named cn.
func newCA(cn string) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("creating CA certificate %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &certAuthority{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// certRequest is what a certificate the CA issues says.
type certRequest struct {
	CommonName   string
	Organization []string
	Usages       []x509.ExtKeyUsage
	DNSNames     []string
	IPAddresses  []net.IP
}

// issue signs a certificate for a new key; it returns both PEM-encoded.
func (ca *certAuthority) issue(r certRequest) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: r.CommonName, Organization: r.Organization},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  r.Usages,
		DNSNames:     r.DNSNames,
		IPAddresses:  r.IPAddresses,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating certificate %s: %w", r.CommonName, err)
	}
	keyPEM, err = ecKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// writeCert issues a certificate and writes it and its key to certPath and keyPath.
func (ca *certAuthority) writeCert(certPath, keyPath string, r certRequest) error {
	certPEM, keyPEM, err := ca.issue(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyPath, keyPEM, 0o600)
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// pki is what a cluster's API server needs: a CA, a serving certificate for loopback
// (and extra addresses) signed by it, the key that signs service account tokens, and
// the client certificate it presents to kubelets.
type pki struct {
	CAPath, CertPath, KeyPath, SAKeyPath        string
	KubeletClientCertPath, KubeletClientKeyPath string
	CAPEM                                       []byte
}

func writePKI(dir string, extraIPs ...net.IP) (*pki, error) {
	ca, err := newCA("vcdns-landscape-ca")
	if err != nil {
		return nil, err
	}
	p := &pki{
		CAPath:                filepath.Join(dir, "ca.crt"),
		CertPath:              filepath.Join(dir, "apiserver.crt"),
		KeyPath:               filepath.Join(dir, "apiserver.key"),
		SAKeyPath:             filepath.Join(dir, "sa.key"),
		KubeletClientCertPath: filepath.Join(dir, "apiserver-kubelet-client.crt"),
		KubeletClientKeyPath:  filepath.Join(dir, "apiserver-kubelet-client.key"),
		CAPEM:                 ca.PEM,
	}
	if err := os.WriteFile(p.CAPath, p.CAPEM, 0o600); err != nil {
		return nil, err
	}
	err = ca.writeCert(p.CertPath, p.KeyPath, certRequest{
		CommonName:  "kube-apiserver",
		Usages:      []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: append([]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, extraIPs...),
	})
	if err != nil {
		return nil, err
	}
	// The API server's identity towards kubelets (logs, exec, port-forward).
	err = ca.writeCert(p.KubeletClientCertPath, p.KubeletClientKeyPath, certRequest{
		CommonName:   "kube-apiserver-kubelet-client",
		Organization: []string{"system:masters"},
		Usages:       []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	saPEM, err := ecKeyPEM(saKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.SAKeyPath, saPEM, 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

func ecKeyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}
