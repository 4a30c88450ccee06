package landscape

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/vcdns/vcdns/images"
)

// Restricted is the Pod security context every Pod of the project's images runs with:
// it meets the restricted Pod Security level (non-root, no privilege escalation,
// every capability dropped, the runtime's seccomp profile) on a read-only root.
func Restricted() (*corev1.PodSecurityContext, *corev1.SecurityContext) {
	return &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](images.NonRoot),
			RunAsGroup:     ptr.To[int64](images.NonRoot),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		}, &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}
}

// probeSpec is the Pod spec every Pod of the test image shares: its container (name,
// args), restricted, with no service account token and a short grace period.
func probeSpec(container string, args ...string) corev1.PodSpec {
	podSec, sec := Restricted()
	return corev1.PodSpec{
		AutomountServiceAccountToken:  ptr.To(false),
		TerminationGracePeriodSeconds: ptr.To[int64](1),
		SecurityContext:               podSec,
		Containers: []corev1.Container{{
			Name:            container,
			SecurityContext: sec,
			Image:           images.Probe.Ref(),
			ImagePullPolicy: corev1.PullNever,
			Args:            args,
		}},
	}
}

// ProbePod is a Pod of the test image (cmd/vcdns-probe) that runs args once; RunPod
// runs it and returns what it reported.
func ProbePod(ns, name string, args ...string) *corev1.Pod {
	spec := probeSpec("probe", args...)
	spec.RestartPolicy = corev1.RestartPolicyNever
	spec.Containers[0].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app.kubernetes.io/name": "vcdns-probe"}},
		Spec:       spec,
	}
}

// ServerDeployment is a Deployment of the test image's HTTP server on port 8080 (named
// http): each replica answers with its Pod's name and address (served-by=<pod>
// pod-ip=<ip> ...).
func ServerDeployment(ns, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: maps.Clone(labels)},
			Template: serverTemplate(labels),
		},
	}
}

// ServerStatefulSet is ServerDeployment as a StatefulSet whose Pods (name-0, name-1,
// ...) take their host names from, and are named in DNS by, the headless Service
// serviceName.
func ServerStatefulSet(ns, name, serviceName string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(replicas),
			ServiceName:         serviceName,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: maps.Clone(labels)},
			Template:            serverTemplate(labels),
		},
	}
}

// serverTemplate is the Pod template of the test image's HTTP server.
func serverTemplate(labels map[string]string) corev1.PodTemplateSpec {
	env := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	spec := probeSpec("server", "serve", "-addr", ":8080")
	c := &spec.Containers[0]
	c.Env = []corev1.EnvVar{env("POD_NAME", "metadata.name"), env("POD_IP", "status.podIP")}
	c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
		PeriodSeconds: 1,
	}
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(labels)}, Spec: spec}
}

// RunPod creates the Pod, waits until it has ended, and returns the line it reported
// (its termination message). A Pod that failed returns its report as the error. The
// Pod is deleted either way.
func (c *Cluster) RunPod(ctx context.Context, pod *corev1.Pod, timeout time.Duration) (string, error) {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pods := cs.CoreV1().Pods(pod.Namespace)
	// A namespace's default ServiceAccount appears shortly after the namespace, and
	// Pods are refused until it does.
	for {
		_, err = pods.Create(ctx, pod, metav1.CreateOptions{})
		if err == nil || !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "serviceaccount") {
			break
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("creating Pod %s/%s: %w", pod.Namespace, pod.Name, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err != nil {
		return "", fmt.Errorf("creating Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	defer func() {
		_ = pods.Delete(context.Background(), pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	}()
	for {
		p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err == nil && (p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed) {
			var msg string
			for _, st := range p.Status.ContainerStatuses {
				if st.State.Terminated != nil {
					msg = strings.TrimSpace(st.State.Terminated.Message)
				}
			}
			if p.Status.Phase == corev1.PodFailed {
				return "", fmt.Errorf("Pod %s/%s of cluster %s failed: %s", pod.Namespace, pod.Name, c.Name, msg)
			}
			return msg, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("Pod %s/%s of cluster %s did not end within %s:%s", pod.Namespace, pod.Name, c.Name, timeout, podProblems(cs, pod.Namespace))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Served is what `vcdns-probe get` reports of an answer of the test image's server
// (ServerDeployment): where the request went, which Pod answered, and the host and
// path that Pod saw.
type Served struct {
	Remote     string // ip:port the client connected to
	Pod, PodIP string
	Host, Path string
}

var servedRE = regexp.MustCompile(`^status=200 remote=(\S+) body=served-by=(\S+) pod-ip=(\S+) host=(\S+) path=(\S+)$`)

// ParseServed reads a report of `vcdns-probe get` from the test image's server; ok is
// false for any other report.
func ParseServed(report string) (s Served, ok bool) {
	m := servedRE.FindStringSubmatch(report)
	if m == nil {
		return Served{}, false
	}
	return Served{Remote: m[1], Pod: m[2], PodIP: m[3], Host: m[4], Path: m[5]}, true
}

// RunningPodIPs returns the IPs of the running Pods of ns that match selector and are
// not being deleted, by Pod name.
func RunningPodIPs(ctx context.Context, cs kubernetes.Interface, ns, selector string) (map[string]string, error) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	ips := map[string]string{}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && p.Status.PodIP != "" {
			ips[p.Name] = p.Status.PodIP
		}
	}
	return ips, nil
}
