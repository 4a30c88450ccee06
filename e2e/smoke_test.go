package e2e

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/e2e/landscape"
)

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, gatewayv1.Install} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// TestLandscapeSmoke proves the local landscape: two clusters with service ranges of
// their own, a working controller manager, Gateway API CRDs served, extra users, and no
// process left behind.
func TestLandscapeSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := landscape.ForTest(t, landscape.Options{})

	a, err := l.StartCluster(ctx, "alpha", landscape.ClusterOptions{
		DualStack: true,
		Users:     []landscape.User{{Name: "tenant-user", Groups: []string{"tenants"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.StartCluster(ctx, "beta", landscape.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.ServiceCIDRs[0] == b.ServiceCIDRs[0] {
		t.Fatalf("clusters share the service range %s", a.ServiceCIDRs[0])
	}

	t.Run("services get cluster IPs from their own cluster's range", func(t *testing.T) {
		for _, c := range []*landscape.Cluster{a, b} {
			cs := kubernetes.NewForConfigOrDie(c.Config)
			policy := corev1.IPFamilyPolicyPreferDualStack
			svc, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "smoke"},
				Spec: corev1.ServiceSpec{
					IPFamilyPolicy: &policy,
					Ports:          []corev1.ServicePort{{Name: "http", Port: 80}},
				},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("cluster %s: %v", c.Name, err)
			}
			if len(svc.Spec.ClusterIPs) != len(c.ServiceCIDRs) {
				t.Errorf("cluster %s: got cluster IPs %v, want one from each of %v", c.Name, svc.Spec.ClusterIPs, c.ServiceCIDRs)
			}
			for i, ip := range svc.Spec.ClusterIPs {
				addr := netip.MustParseAddr(ip)
				if i < len(c.ServiceCIDRs) && !netip.MustParsePrefix(c.ServiceCIDRs[i]).Contains(addr) {
					t.Errorf("cluster %s: cluster IP %s is outside its range %s", c.Name, ip, c.ServiceCIDRs[i])
				}
			}
		}
	})

	t.Run("a deleted namespace finishes deleting", func(t *testing.T) {
		cs := kubernetes.NewForConfigOrDie(b.Config)
		ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().ConfigMaps(ns.Name).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "content"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := cs.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Fatalf("namespace %s still exists: %v", ns.Name, err)
		}
	})

	t.Run("Gateway API CRDs are served", func(t *testing.T) {
		files, err := landscape.GatewayAPICRDFiles()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.InstallCRDs(ctx, files...); err != nil {
			t.Fatal(err)
		}
		c, err := client.New(a.Config, client.Options{Scheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		gc := &gatewayv1.GatewayClass{
			ObjectMeta: metav1.ObjectMeta{Name: "smoke"},
			Spec:       gatewayv1.GatewayClassSpec{ControllerName: "example.com/smoke"},
		}
		if err := c.Create(ctx, gc); err != nil {
			t.Fatalf("creating a GatewayClass: %v", err)
		}
		var got gatewayv1.GatewayClassList
		if err := c.List(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 1 || got.Items[0].Spec.ControllerName != "example.com/smoke" {
			t.Errorf("listed GatewayClasses %+v, want the one created", got.Items)
		}
		var routes gatewayv1.HTTPRouteList
		if err := c.List(ctx, &routes, client.InNamespace("default")); err != nil {
			t.Errorf("HTTPRoutes not served: %v", err)
		}
	})

	t.Run("extra users authenticate with their own identity", func(t *testing.T) {
		cfg, err := a.UserConfig("tenant-user")
		if err != nil {
			t.Fatal(err)
		}
		cs := kubernetes.NewForConfigOrDie(cfg)
		review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := review.Status.UserInfo.Username; got != "tenant-user" {
			t.Errorf("authenticated as %q, want tenant-user", got)
		}
		_, err = cs.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("listing secrets as tenant-user: got %v, want Forbidden", err)
		}
	})

	t.Run("no process outlives the landscape", func(t *testing.T) {
		procs := l.Processes()
		if len(procs) < 6 {
			t.Fatalf("landscape tracks %d processes, want at least 6 (2 x etcd, apiserver, controller manager)", len(procs))
		}
		l.Stop()
		for _, p := range procs {
			if err := syscall.Kill(-p.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process group of %s (%d) still exists after Stop: %v", p.Name, p.Pid(), err)
			}
		}
	})
}
