// Package apply writes rendered objects so that nothing is written when nothing changed.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// HashAnnotation holds the hash of what the syncer rendered for an object.
const HashAnnotation = "vcdns.io/rendered-hash"

// Ensure creates obj, or updates the existing object when what the syncer renders for
// it changed since the last write. The rendered object is hashed into HashAnnotation;
// an object whose hash matches is left alone whatever the server defaulted into it, so
// a restarted syncer with nothing to change makes no writes. It reports whether it
// wrote.
func Ensure(ctx context.Context, c client.Client, obj client.Object) (bool, error) {
	h, err := Hash(obj)
	if err != nil {
		return false, err
	}
	existing, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return false, fmt.Errorf("%T is not a client.Object", obj)
	}
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[HashAnnotation] = h
	obj.SetAnnotations(ann)

	err = c.Get(ctx, client.ObjectKeyFromObject(obj), existing)
	switch {
	case apierrors.IsNotFound(err):
		if err := c.Create(ctx, obj); err != nil {
			return false, fmt.Errorf("creating %s: %w", describe(obj), err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("reading %s: %w", describe(obj), err)
	}
	if existing.GetAnnotations()[HashAnnotation] == h {
		return false, nil
	}
	obj.SetResourceVersion(existing.GetResourceVersion())
	if err := c.Update(ctx, obj); err != nil {
		return false, fmt.Errorf("updating %s: %w", describe(obj), err)
	}
	return true, nil
}

// Hash is a stable hash of what was rendered for obj.
func Hash(obj client.Object) (string, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", describe(obj), err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:10]), nil
}

func describe(obj client.Object) string {
	kind := fmt.Sprintf("%T", obj)
	if obj.GetNamespace() == "" {
		return kind + " " + obj.GetName()
	}
	return kind + " " + obj.GetNamespace() + "/" + obj.GetName()
}
