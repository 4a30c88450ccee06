package vcdnsenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/images"
)

// TestOverlay renders the overlay Deploy applies over config/default and checks what
// it changes: every container runs an image of `make images` that is never pulled,
// the etcd members claim the default StorageClass, the syncer runs
// SyncerReplicas replicas and is given the central DNS address only when there is one.
func TestOverlay(t *testing.T) {
	t.Parallel()
	root, err := landscape.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, address string
		wantArg       bool
	}{
		{name: "before the central DNS has an address"},
		{name: "with the central DNS address", address: "172.31.1.1", wantArg: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			base, err := filepath.Rel(dir, filepath.Join(root, "config", "default"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(Overlay(base, tc.address)), 0o644); err != nil {
				t.Fatal(err)
			}
			objs, err := Render(dir)
			if err != nil {
				t.Fatal(err)
			}
			refs := []string{images.Syncer.Ref(), images.CoreDNS.Ref(), images.Etcd.Ref()}
			workloads := map[string]*unstructured.Unstructured{}
			for _, o := range objs {
				if o.GetKind() != "Deployment" && o.GetKind() != "StatefulSet" {
					continue
				}
				workloads[o.GetName()] = o
				containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
				for _, c := range containers {
					c := c.(map[string]any)
					if !slices.Contains(refs, c["image"].(string)) || c["imagePullPolicy"] != "Never" {
						t.Errorf("%s %s runs %v (pull policy %v), want one of %v, never pulled", o.GetKind(), o.GetName(), c["image"], c["imagePullPolicy"], refs)
					}
				}
			}
			for _, name := range []string{EtcdStatefulSet, CentralDNSDeployment, SyncerDeployment} {
				if workloads[name] == nil {
					t.Fatalf("the overlay renders no %s; it has %v", name, workloads)
				}
			}
			// The cluster's default StorageClass: the landscape's local volumes, kind's
			// standard class.
			claims, _, _ := unstructured.NestedSlice(workloads[EtcdStatefulSet].Object, "spec", "volumeClaimTemplates")
			if len(claims) != 1 || claims[0].(map[string]any)["spec"].(map[string]any)["storageClassName"] != nil {
				t.Errorf("the etcd members claim %v, want the default storage class", claims)
			}
			syncer := workloads[SyncerDeployment]
			if replicas, _, _ := unstructured.NestedInt64(syncer.Object, "spec", "replicas"); replicas != SyncerReplicas {
				t.Errorf("the syncer has %d replicas, want %d", replicas, SyncerReplicas)
			}
			containers, _, _ := unstructured.NestedSlice(syncer.Object, "spec", "template", "spec", "containers")
			args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
			if got := slices.Contains(args, "--central-dns-address="+tc.address); got != tc.wantArg {
				t.Errorf("the syncer's args %v: --central-dns-address=%s there is %t, want %t", args, tc.address, got, tc.wantArg)
			}
		})
	}
}
