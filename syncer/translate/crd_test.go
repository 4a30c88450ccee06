/*
Copyright The vcdns Authors.
*/

package translate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// This file applies the Gateway API CRDs of the module version in go.mod the way the
// API server does: pruning of unknown fields and structural defaulting (absent fields
// with a default get it, then defaults apply inside). It is written from the CRD
// defaulting rules, independently of the default functions under test.

var (
	crdOnce    sync.Once
	crdSchemas map[string]*apiextensionsv1.JSONSchemaProps
	crdErr     error
)

// crdSchema returns the v1 schema of the standard-channel CRD of resource (plural).
func crdSchema(t testing.TB, resource string) *apiextensionsv1.JSONSchemaProps {
	t.Helper()
	crdOnce.Do(func() {
		out, err := exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/gateway-api").Output()
		if err != nil {
			crdErr = err
			return
		}
		var mod struct{ Dir string }
		if crdErr = json.Unmarshal(out, &mod); crdErr != nil {
			return
		}
		crdSchemas = map[string]*apiextensionsv1.JSONSchemaProps{}
		for _, r := range []string{"gateways", "httproutes"} {
			data, err := os.ReadFile(filepath.Join(mod.Dir, "config", "crd", "standard", "gateway.networking.k8s.io_"+r+".yaml"))
			if err != nil {
				crdErr = err
				return
			}
			var crd apiextensionsv1.CustomResourceDefinition
			if crdErr = yaml.Unmarshal(data, &crd); crdErr != nil {
				return
			}
			for _, v := range crd.Spec.Versions {
				if v.Name == "v1" {
					crdSchemas[r] = v.Schema.OpenAPIV3Schema
				}
			}
		}
	})
	if crdErr != nil {
		t.Fatalf("loading the Gateway API CRDs: %v", crdErr)
	}
	s, ok := crdSchemas[resource]
	if !ok {
		t.Fatalf("no v1 schema for %s", resource)
	}
	return s
}

// crdDefault returns obj as the API server stores it: pruned and defaulted.
func crdDefault[T any](t testing.TB, resource string, obj *T) *T {
	t.Helper()
	u := toJSONValue(t, obj)
	s := crdSchema(t, resource)
	prune(u, s)
	applyDefaults(u, s)
	return fromJSONValue[T](t, u)
}

// crdPrune returns obj with the fields the CRD does not know removed.
func crdPrune[T any](t testing.TB, resource string, obj *T) *T {
	t.Helper()
	u := toJSONValue(t, obj)
	prune(u, crdSchema(t, resource))
	return fromJSONValue[T](t, u)
}

func toJSONValue(t testing.TB, obj any) any {
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var u any
	if err := json.Unmarshal(data, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func fromJSONValue[T any](t testing.TB, u any) *T {
	data, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// applyDefaults sets the schema's defaults on absent fields, then descends.
func applyDefaults(x any, s *apiextensionsv1.JSONSchemaProps) {
	if s == nil {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		for k, prop := range s.Properties {
			if prop.Default == nil {
				continue
			}
			if _, found := x[k]; !found {
				var d any
				if err := json.Unmarshal(prop.Default.Raw, &d); err != nil {
					panic(err)
				}
				x[k] = d
			}
		}
		for k, v := range x {
			if prop, ok := s.Properties[k]; ok {
				applyDefaults(v, &prop)
			} else if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
				applyDefaults(v, s.AdditionalProperties.Schema)
			}
		}
	case []any:
		if s.Items == nil || s.Items.Schema == nil {
			return
		}
		for _, v := range x {
			applyDefaults(v, s.Items.Schema)
		}
	}
}

// prune removes fields the schema does not know. metadata is left alone.
func prune(x any, s *apiextensionsv1.JSONSchemaProps) {
	if s == nil || (s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields) {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		if s.AdditionalProperties != nil {
			if s.AdditionalProperties.Schema != nil {
				for _, v := range x {
					prune(v, s.AdditionalProperties.Schema)
				}
			}
			return
		}
		if len(s.Properties) == 0 {
			return
		}
		for k, v := range x {
			prop, ok := s.Properties[k]
			switch {
			case k == "metadata" || k == "apiVersion" || k == "kind":
			case !ok:
				delete(x, k)
			default:
				prune(v, &prop)
			}
		}
	case []any:
		if s.Items != nil && s.Items.Schema != nil {
			for _, v := range x {
				prune(v, s.Items.Schema)
			}
		}
	}
}

// assertStandardOnly fails if the CRD would prune anything of obj: copies must hold
// standard-channel fields only, or they would never match what the server stores.
func assertStandardOnly[T any](t *testing.T, resource string, obj *T) {
	t.Helper()
	if pruned := crdPrune(t, resource, obj); !reflect.DeepEqual(toJSONValue(t, pruned), toJSONValue(t, obj)) {
		t.Errorf("the standard-channel CRD prunes fields of the copy:\ncopy   %s\npruned %s", mustJSON(obj), mustJSON(pruned))
	}
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
