package landscape

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// LocalStorageClass is the StorageClass of the local volumes ProvisionLocalVolumes
// makes: no provisioner, and a claim is bound only once a Pod using it is scheduled
// (WaitForFirstConsumer), as local volumes must be. It is the cluster's default class,
// as kind's "standard" is there, so that claims that name no class get these volumes.
const LocalStorageClass = "local"

// ProvisionLocalVolumes gives the cluster's node n local PersistentVolumes of size
// each, of the StorageClass LocalStorageClass (created unless it exists), as a
// platform team provisions disks for a StatefulSet's volumeClaimTemplates. Each is a
// folder under the node's folder, pinned to the node by its nodeAffinity; the kubelet
// bind-mounts it into the Pod and gives it to the Pod's fsGroup. The node's teardown
// unmounts them; the folders go with the landscape's data. It returns the volumes'
// names.
func (c *Cluster) ProvisionLocalVolumes(ctx context.Context, n int, size resource.Quantity) ([]string, error) {
	if c.Node == nil {
		return nil, fmt.Errorf("cluster %s has no node for local volumes", c.Name)
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	_, err = cs.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: LocalStorageClass, Annotations: map[string]string{
			"storageclass.kubernetes.io/is-default-class": "true",
		}},
		Provisioner:       "kubernetes.io/no-provisioner",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer),
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimRetain),
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating StorageClass %s on cluster %s: %w", LocalStorageClass, c.Name, err)
	}
	existing, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var names []string
	for i := len(existing.Items); len(names) < n; i++ {
		name := fmt.Sprintf("%s-local-%d", c.Node.Name, i)
		dir := filepath.Join(c.Node.Dir, "volumes", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		_, err := cs.CoreV1().PersistentVolumes().Create(ctx, localVolume(name, dir, c.Node.Name, size), metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("creating PersistentVolume %s on cluster %s: %w", name, c.Name, err), os.Remove(dir))
		}
		names = append(names, name)
	}
	return names, nil
}

// localVolume is a local PersistentVolume at dir on the node.
func localVolume(name, dir, node string, size resource.Quantity) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              LocalStorageClass,
			VolumeMode:                    ptr.To(corev1.PersistentVolumeFilesystem),
			PersistentVolumeSource:        corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: dir}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
			}}}},
		},
	}
}
