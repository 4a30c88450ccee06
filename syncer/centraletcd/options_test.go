package centraletcd

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "https with CA and client certificate", opts: Options{Endpoints: []string{"https://etcd-0:2379", "https://etcd-1:2379"}, CAFile: "ca.crt", CertFile: "tls.crt", KeyFile: "tls.key"}},
		{name: "https without a client certificate: etcd says whether it wants one", opts: Options{Endpoints: []string{"https://etcd:2379"}, CAFile: "ca.crt"}},
		{name: "https with the system's CAs", opts: Options{Endpoints: []string{"https://etcd:2379"}, CertFile: "tls.crt", KeyFile: "tls.key"}},
		{name: "http with the flag", opts: Options{Endpoints: []string{"http://127.0.0.1:2379"}, InsecurePlaintext: true}},
		{name: "no endpoint", opts: Options{}, wantErr: "no endpoint"},
		{name: "http without the flag", opts: Options{Endpoints: []string{"http://etcd:2379"}}, wantErr: "set --central-etcd-insecure-plaintext"},
		{name: "http with TLS files", opts: Options{Endpoints: []string{"http://etcd:2379"}, InsecurePlaintext: true, CAFile: "ca.crt"}, wantErr: "are for https:// URLs"},
		{name: "the flag with https", opts: Options{Endpoints: []string{"https://etcd:2379"}, InsecurePlaintext: true}, wantErr: "drop the flag"},
		{name: "mixed schemes", opts: Options{Endpoints: []string{"https://etcd-0:2379", "http://etcd-1:2379"}, InsecurePlaintext: true}, wantErr: "mixes"},
		{name: "no scheme", opts: Options{Endpoints: []string{"etcd:2379"}}, wantErr: "like https://host:2379"},
		{name: "not a URL", opts: Options{Endpoints: []string{"https://"}}, wantErr: "is not a URL"},
		{name: "unix socket", opts: Options{Endpoints: []string{"unix://etcd.sock"}}, wantErr: "want an https:// URL"},
		{name: "certificate without key", opts: Options{Endpoints: []string{"https://etcd:2379"}, CertFile: "tls.crt"}, wantErr: "give both or neither"},
		{name: "key without certificate", opts: Options{Endpoints: []string{"https://etcd:2379"}, KeyFile: "tls.key"}, wantErr: "give both or neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.opts.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}
