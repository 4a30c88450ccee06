package records

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClaimsCheck(t *testing.T) {
	t.Parallel()
	a, b := gwOwner("c1", "ns", "a"), gwOwner("c2", "ns", "b")
	aOtherOrigin := a
	aOtherOrigin.Origin = "elsewhere"
	held := claims("app.example", a, "x.deep.example", a, "y.deep.example", b)
	tests := []struct {
		name  string
		claim string
		owner Owner
		want  *Conflict
	}{
		{name: "free", claim: "other.example", owner: b},
		{name: "own name", claim: "app.example", owner: a},
		{name: "own name, origin differs", claim: "app.example", owner: aOtherOrigin},
		{name: "below own name", claim: "z.app.example", owner: a},
		{name: "taken", claim: "app.example", owner: b, want: &Conflict{Reason: ReasonConflict, Hostname: "app.example", Other: "app.example", Owner: a}},
		{name: "below another's name", claim: "z.y.app.example", owner: b, want: &Conflict{Reason: ReasonNested, Hostname: "z.y.app.example", Other: "app.example", Owner: a}},
		{name: "above another's name", claim: "example", owner: b, want: &Conflict{Reason: ReasonNested, Hostname: "example", Other: "app.example", Owner: a}},
		{name: "above names of two owners", claim: "deep.example", owner: a, want: &Conflict{Reason: ReasonNested, Hostname: "deep.example", Other: "y.deep.example", Owner: b}},
		{name: "sibling", claim: "z.deep.example", owner: a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, held.Check(tt.claim, tt.owner)); diff != "" {
				t.Errorf("Check(%q, %s) (-want +got):\n%s", tt.claim, tt.owner.ID(), diff)
			}
		})
	}
}

func TestClaimsAddReplaces(t *testing.T) {
	t.Parallel()
	a, b := gwOwner("c1", "ns", "a"), gwOwner("c2", "ns", "b")
	c := claims("x.app.example", a, "y.app.example", a)
	c.Add("x.app.example", b)
	if got := c.Check("app.example", a); got == nil || got.Owner.ID() != b.ID() {
		t.Errorf("after replacing x.app.example: Check(app.example, a) = %v, want a conflict with b", got)
	}
	c.Add("x.app.example", a)
	if got := c.Check("app.example", a); got != nil {
		t.Errorf("after giving x.app.example back: Check(app.example, a) = %v, want nil", got)
	}
	var nilClaims *Claims
	if nilClaims.Check("a.b", a) != nil || nilClaims.Len() != 0 {
		t.Error("a nil *Claims must hold nothing")
	}
	if got, want := c.Len(), 2; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}
