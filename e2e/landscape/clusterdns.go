package landscape

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/vcdns/vcdns/images"
)

// ClusterCorefile is the Corefile a cluster with a node starts its own DNS with, as
// kubeadm's: the cluster domain from the API, everything else forwarded to the node's
// resolv.conf. `reload` picks up changes of the ConfigMap (the syncer's block for the
// base domain) within seconds of the kubelet updating the volume.
const ClusterCorefile = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    forward . /etc/resolv.conf
    cache 30
    reload 2s
}
`

// ClusterDNS is a cluster's own DNS: the CoreDNS Deployment kube-system/coredns, run
// from the ConfigMap kube-system/coredns (key Corefile), behind the Service
// kube-system/kube-dns at the addresses the kubelet gives Pods as their nameserver.
type ClusterDNS struct {
	// IPs are the Service's ClusterIPs, the kubelet's clusterDNS.
	IPs []string
}

// ClusterDNSNamespace and ClusterDNSName name the DNS objects of a cluster with a node.
const (
	ClusterDNSNamespace = "kube-system"
	ClusterDNSName      = "coredns"
)

// StartClusterDNS deploys the cluster's DNS onto its node and waits until it is Ready.
// The ConfigMap is created with ClusterCorefile unless it exists.
func (l *Landscape) StartClusterDNS(ctx context.Context, c *Cluster) (*ClusterDNS, error) {
	start := time.Now()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	ns, name := ClusterDNSNamespace, ClusterDNSName
	labels := map[string]string{"k8s-app": "kube-dns"}
	var ips []string
	for _, ip := range c.Node.Net.ClusterDNSIPs() {
		ips = append(ips, ip.String())
	}
	policy := corev1.IPFamilyPolicySingleStack
	if len(ips) > 1 {
		policy = corev1.IPFamilyPolicyRequireDualStack
	}
	create := []func() error{
		func() error {
			_, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
				ObjectMeta: metav1.ObjectMeta{Name: "system:coredns"},
				Rules: []rbacv1.PolicyRule{
					{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
					{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
				},
			}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "system:coredns"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:coredns"},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}},
			}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Data:       map[string]string{"Corefile": ClusterCorefile},
			}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Labels: labels},
				Spec: corev1.ServiceSpec{
					Selector:       labels,
					ClusterIP:      ips[0],
					ClusterIPs:     ips,
					IPFamilyPolicy: &policy,
					Ports: []corev1.ServicePort{
						{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
						{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
					},
				},
			}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.AppsV1().Deployments(ns).Create(ctx, clusterDNSDeployment(ns, name, labels), metav1.CreateOptions{})
			return err
		},
	}
	for _, f := range create {
		if err := f(); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, err
		}
	}
	if err := WaitDeploymentReady(ctx, cs, ns, name, 2*time.Minute); err != nil {
		return nil, err
	}
	l.opts.Logf("DNS of cluster %s Ready in %s at %v", c.Name, time.Since(start).Round(100*time.Millisecond), ips)
	return &ClusterDNS{IPs: ips}, nil
}

// clusterDNSDeployment runs the project's CoreDNS image as it runs everywhere: as
// 65532 on a read-only root, with only NET_BIND_SERVICE (the binary's file capability
// needs it in the bounding set to bind port 53).
func clusterDNSDeployment(ns, name string, labels map[string]string) *appsv1.Deployment {
	podSec, sec := Restricted()
	sec.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: name,
					DNSPolicy:          corev1.DNSDefault,
					PriorityClassName:  "system-cluster-critical",
					SecurityContext:    podSec,
					Containers: []corev1.Container{{
						Name:            "coredns",
						Image:           images.CoreDNS.Ref(),
						ImagePullPolicy: corev1.PullNever,
						Args:            []string{"-conf", "/etc/coredns/Corefile"},
						Ports: []corev1.ContainerPort{
							{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
							{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/coredns", ReadOnly: true}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8181)}},
							PeriodSeconds: 1,
						},
						LivenessProbe: &corev1.Probe{
							ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(8080)}},
							InitialDelaySeconds: 10,
						},
						SecurityContext: sec,
					}},
					Volumes: []corev1.Volume{{
						Name: "config",
						VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: name},
						}},
					}},
				},
			},
		},
	}
}

// WaitDeploymentReady polls until every replica of the Deployment is updated and
// available, and says what is missing when the deadline passes.
func WaitDeploymentReady(ctx context.Context, cs kubernetes.Interface, ns, name string, timeout time.Duration) error {
	return waitReady(ctx, cs, "Deployment", ns, name, timeout, func(ctx context.Context) (bool, string, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want := ptr.Deref(d.Spec.Replicas, 1)
		ready := d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == want && d.Status.AvailableReplicas == want && d.Status.Replicas == want
		return ready, fmt.Sprintf("%d/%d available, %d updated", d.Status.AvailableReplicas, want, d.Status.UpdatedReplicas), nil
	})
}

// WaitStatefulSetReady polls until every replica of the StatefulSet is updated and
// ready, and says what is missing when the deadline passes.
func WaitStatefulSetReady(ctx context.Context, cs kubernetes.Interface, ns, name string, timeout time.Duration) error {
	return waitReady(ctx, cs, "StatefulSet", ns, name, timeout, func(ctx context.Context) (bool, string, error) {
		s, err := cs.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		want := ptr.Deref(s.Spec.Replicas, 1)
		ready := s.Status.ObservedGeneration >= s.Generation && s.Status.UpdatedReplicas == want && s.Status.ReadyReplicas == want && s.Status.Replicas == want
		return ready, fmt.Sprintf("%d/%d ready, %d updated", s.Status.ReadyReplicas, want, s.Status.UpdatedReplicas), nil
	})
}

// waitReady polls check every 200 ms until it says ready, and when the deadline
// passes says what it last reported and which Pods of the namespace do not run.
func waitReady(ctx context.Context, cs kubernetes.Interface, kind, ns, name string, timeout time.Duration, check func(context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ready, state, err := check(ctx)
		if ready {
			return nil
		}
		if err != nil {
			state = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s/%s not ready after %s: %s%s", kind, ns, name, timeout, state, podProblems(cs, ns))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// podProblems describes the Pods of a namespace that are not running, for errors.
func podProblems(cs kubernetes.Interface, ns string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return ""
	}
	var s string
	for _, p := range pods.Items {
		s += fmt.Sprintf("\n  Pod %s: %s", p.Name, p.Status.Phase)
		for _, c := range p.Status.Conditions {
			if c.Status != corev1.ConditionTrue && c.Message != "" {
				s += fmt.Sprintf(" %s: %s", c.Type, c.Message)
			}
		}
		for _, st := range p.Status.ContainerStatuses {
			if st.State.Waiting != nil {
				s += fmt.Sprintf(" %s waiting: %s %s", st.Name, st.State.Waiting.Reason, st.State.Waiting.Message)
			}
			if st.State.Terminated != nil {
				s += fmt.Sprintf(" %s terminated: %s %s", st.Name, st.State.Terminated.Reason, st.State.Terminated.Message)
			}
		}
	}
	return s
}
