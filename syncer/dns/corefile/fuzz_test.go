package corefile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPatch checks, for any Corefile Patch accepts, that patching is idempotent, that
// the result parses with the block as a server block, and that the content outside the
// block is kept: removing the block from the result gives what removing it from the
// input gives. Remove must be idempotent for any input it accepts.
func FuzzPatch(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.in")
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if r, err := Remove(in); err == nil {
			if again, err := Remove(r); err != nil || !bytes.Equal(again, r) {
				t.Fatalf("Remove not idempotent on %q: %q, %v", r, again, err)
			}
		}
		out, err := Patch(in, testBlock)
		if err != nil {
			if out != nil {
				t.Fatalf("Patch returned content with an error")
			}
			return
		}
		checkInvariants(t, in, out)
	})
}
