package translate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEventNote(t *testing.T) {
	short := "Deleted without removing namespace mcp-x on cluster c1"
	if got := EventNote(short); got != short {
		t.Errorf("EventNote(%q) = %q, want it unchanged", short, got)
	}
	exact := strings.Repeat("a", MaxEventNote)
	if got := EventNote(exact); got != exact {
		t.Errorf("a note of exactly %d bytes was cut to %d", MaxEventNote, len(got))
	}
	// A long message of multi-byte runes is cut within the limit, to valid UTF-8, and
	// says that it was cut.
	long := strings.Repeat("ä", MaxEventNote)
	got := EventNote(long)
	if len(got) > MaxEventNote {
		t.Errorf("note of %d bytes, want at most %d", len(got), MaxEventNote)
	}
	if !utf8.ValidString(got) {
		t.Errorf("note is not valid UTF-8: %q", got[len(got)-20:])
	}
	if !strings.HasSuffix(got, " (and more)") || !strings.HasPrefix(got, "ää") {
		t.Errorf("note %q...%q does not keep the start and mark the cut", got[:10], got[len(got)-20:])
	}
}
