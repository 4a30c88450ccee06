/*
Copyright The vcdns Authors.
*/

package translate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRefusalsMessage(t *testing.T) {
	t.Parallel()
	long := Refusal{Field: "spec.x", Reason: ReasonNotAllowed, Message: strings.Repeat("é", 20000)}
	tests := []struct {
		name     string
		refusals []Refusal
		want     string
	}{
		{name: "none"},
		{
			name:     "one",
			refusals: []Refusal{{Field: "spec.addresses", Reason: ReasonNotAllowed, Message: "addresses are not copied"}},
			want:     "spec.addresses: addresses are not copied",
		},
		{
			name: "two",
			refusals: []Refusal{
				{Field: "spec.a", Reason: ReasonNotAllowed, Message: "a"},
				{Field: "spec.b", Reason: ReasonUnsupportedKind, Message: "b"},
			},
			want: "spec.a: a; spec.b: b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := RefusalsMessage(tt.refusals); got != tt.want {
				t.Errorf("RefusalsMessage = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("cut to a condition message", func(t *testing.T) {
		t.Parallel()
		got := RefusalsMessage([]Refusal{long, long})
		if len(got) > maxMessageLength || !utf8.ValidString(got) || !strings.HasSuffix(got, "(and more)") {
			t.Errorf("RefusalsMessage of %d bytes: %d bytes, valid UTF-8 %v", 2*len(long.Message), len(got), utf8.ValidString(got))
		}
	})
}
