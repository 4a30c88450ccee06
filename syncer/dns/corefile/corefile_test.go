package corefile

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var testBlock = Block{Zone: "openmcp.cluster", Upstreams: []string{"10.96.0.53"}}

// TestPatchGolden patches every testdata/valid-*.in and compares the result with
// valid-*.golden; every testdata/invalid-*.in must be refused with the error in
// invalid-*.golden.
func TestPatchGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob("testdata/*.in")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no test inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Patch(src, testBlock)
			var got []byte
			switch {
			case strings.HasPrefix(name, "valid-"):
				if err != nil {
					t.Fatalf("Patch: %v", err)
				}
				got = out
				checkInvariants(t, src, out)
			case strings.HasPrefix(name, "invalid-"):
				if err == nil {
					t.Fatalf("Patch succeeded, want an error; result:\n%s", out)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("Patch error %v does not wrap ErrInvalid", err)
				}
				got = []byte(err.Error() + "\n")
			default:
				t.Fatalf("test input %s is named neither valid-* nor invalid-*", in)
			}
			golden := strings.TrimSuffix(in, ".in") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("result differs from %s (run go test -update to rewrite it):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// checkInvariants checks what must hold for every successful Patch: applying it again
// changes nothing, the block parses as a server block, and removing it gives back the
// input without its block.
func checkInvariants(t *testing.T, in, out []byte) {
	t.Helper()
	again, err := Patch(out, testBlock)
	if err != nil {
		t.Fatalf("Patch of the patched Corefile: %v", err)
	}
	if !bytes.Equal(again, out) {
		t.Fatalf("Patch is not idempotent:\n--- once\n%s\n--- twice\n%s", out, again)
	}
	removed, err := Remove(out)
	if err != nil {
		t.Fatalf("Remove of the patched Corefile: %v", err)
	}
	inRemoved, err := Remove(in)
	if err != nil {
		t.Fatalf("Remove of the input: %v", err)
	}
	if !bytes.Equal(normalizeEnd(removed, in), normalizeEnd(inRemoved, in)) {
		t.Fatalf("content outside the block changed:\n--- input without block\n%q\n--- patched without block\n%q", inRemoved, removed)
	}
	if twice, err := Remove(removed); err != nil || !bytes.Equal(twice, removed) {
		t.Fatalf("Remove is not idempotent: %v\n%q\n%q", err, removed, twice)
	}
}

// normalizeEnd adds the line break Patch adds to a Corefile that does not end with
// one: "\r\n" when the original Corefile has one, "\n" otherwise.
func normalizeEnd(b, original []byte) []byte {
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
		if bytes.Contains(original, []byte("\r\n")) {
			return append(bytes.Clone(b), '\r', '\n')
		}
		return append(bytes.Clone(b), '\n')
	}
	return b
}

func TestRemove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "no block", in: ".:53 {\n}\n", want: ".:53 {\n}\n"},
		{name: "no block, not parsing", in: ".:53 {\n", want: ".:53 {\n"},
		{name: "appended block", in: ".:53 {\n}\n\n# BEGIN vcdns\nx {\n}\n# END vcdns\n", want: ".:53 {\n}\n"},
		{name: "only the block", in: "# BEGIN vcdns\nx {\n}\n# END vcdns\n", want: ""},
		{name: "block in the middle keeps blank lines around it", in: "a {\n}\n\n# BEGIN vcdns\n# END vcdns\n\nb {\n}\n", want: "a {\n}\n\n\nb {\n}\n"},
		{name: "block without final line break", in: "a {\n}\n\n# BEGIN vcdns\n# END vcdns", want: "a {\n}\n"},
		{name: "outside does not parse", in: "a {\n\n# BEGIN vcdns\n# END vcdns\n", wantErr: "does not parse"},
		{name: "broken markers", in: "# END vcdns\n# BEGIN vcdns\n", wantErr: "without a"},
		{name: "marker lookalike is content", in: "# BEGIN vcdnsx\n", want: "# BEGIN vcdnsx\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Remove([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Remove = %q, %v, want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("Remove = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestPatchBlock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		block   Block
		want    string
		wantErr string
	}{
		{
			name:  "several upstreams, IPv6 and ports",
			block: Block{Zone: "OpenMCP.Cluster", Upstreams: []string{"10.96.0.53", "[fd00::53]:5353", "fd00::54"}},
			want:  "forward . 10.96.0.53 [fd00::53]:5353 fd00::54\n",
		},
		{name: "no upstream", block: Block{Zone: "openmcp.cluster"}, wantErr: "no upstream"},
		{name: "upstream name", block: Block{Zone: "openmcp.cluster", Upstreams: []string{"dns.example"}}, wantErr: "neither an IP address"},
		{name: "upstream port zero", block: Block{Zone: "openmcp.cluster", Upstreams: []string{"10.0.0.1:0"}}, wantErr: "neither an IP address"},
		{name: "bad zone", block: Block{Zone: "open mcp", Upstreams: []string{"10.0.0.1"}}, wantErr: "not a domain name"},
		{name: "wildcard zone", block: Block{Zone: "*.openmcp.cluster", Upstreams: []string{"10.0.0.1"}}, wantErr: "not a domain name"},
		{name: "root zone", block: Block{Zone: ".", Upstreams: []string{"10.0.0.1"}}, wantErr: "not a domain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Patch([]byte(".:53 {\n}\n"), tt.block)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Patch = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(string(got), tt.want) || !strings.Contains(string(got), "\nopenmcp.cluster:53 {\n") {
				t.Fatalf("Patch = %v:\n%s\nwant it to contain %q", err, got, tt.want)
			}
		})
	}
}

func TestPatchDoesNotReadImportedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	// A file that would not parse as Corefile content: reading it would fail Patch.
	if err := os.WriteFile(secret, []byte("{{{ s3cr3t"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := ".:53 {\n    import " + secret + "\n}\nimport " + secret + "\n"
	out, err := Patch([]byte(in), testBlock)
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	if strings.Contains(string(out), "s3cr3t") {
		t.Errorf("the imported file found its way into the result:\n%s", out)
	}
}

func TestPatchDoesNotUseTheEnvironment(t *testing.T) {
	// Not parallel: sets the environment.
	t.Setenv("VCDNS_TEST_BROKEN", "{")
	out, err := Patch([]byte(".:53 {\n    bind {$VCDNS_TEST_BROKEN}\n}\n"), testBlock)
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	if !strings.Contains(string(out), "    bind {$VCDNS_TEST_BROKEN}\n") {
		t.Errorf("bind not copied as written:\n%s", out)
	}
}
