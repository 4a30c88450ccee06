/*
Copyright The vcdns Authors.
*/

package translate

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// mapConditions maps conditions a controller set on a copy into tenant terms. A
// condition observed at the copy's current generation copyGen was observed at the
// tenant's generation tenantGen; an older one keeps the observedGeneration the tenant
// already shows for its type in previous (0 if none), which was mapped when it was
// current.
func mapConditions(conds []metav1.Condition, copyGen, tenantGen int64, previous []metav1.Condition) []metav1.Condition {
	if conds == nil {
		return nil
	}
	out := make([]metav1.Condition, 0, len(conds))
	for _, c := range conds {
		switch p := meta.FindStatusCondition(previous, c.Type); {
		case c.ObservedGeneration == copyGen:
			c.ObservedGeneration = tenantGen
		case p != nil:
			c.ObservedGeneration = p.ObservedGeneration
		default:
			c.ObservedGeneration = 0
		}
		out = append(out, c)
	}
	return out
}

// condition is the type and reason of a condition vcdns sets itself.
type condition struct {
	Type   string
	Reason string
}

// refusedConditions returns False conditions with the given types and reasons, all
// with message msg, observed at generation. A condition that was already False in
// previous keeps its lastTransitionTime, so that computing them again changes nothing.
func refusedConditions(generation int64, previous []metav1.Condition, msg string, conds ...condition) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(conds))
	for _, c := range conds {
		cond := metav1.Condition{
			Type:               c.Type,
			Status:             metav1.ConditionFalse,
			ObservedGeneration: generation,
			Reason:             c.Reason,
			Message:            msg,
			LastTransitionTime: metav1.Now(),
		}
		if p := meta.FindStatusCondition(previous, cond.Type); p != nil && p.Status == cond.Status {
			cond.LastTransitionTime = p.LastTransitionTime
		}
		out = append(out, cond)
	}
	return out
}
