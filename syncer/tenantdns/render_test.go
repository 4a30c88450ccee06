package tenantdns

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/tools/clientcmd"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestCorefile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		golden string
		opts   Options
	}{
		{
			name:   "single stack",
			golden: "valid-single-stack.Corefile",
			opts:   Options{ServiceCIDRs: []string{"10.97.0.0/16"}, AnnotationKey: "transparency.tenancy.x-k8s.io/clusterIP", ClusterDomain: "cluster.local"},
		},
		{
			name:   "forwarding the base domain to the central DNS",
			golden: "valid-base-domain.Corefile",
			opts:   Options{ServiceCIDRs: []string{"10.97.0.0/16"}, AnnotationKey: "transparency.tenancy.x-k8s.io/clusterIP", ClusterDomain: "cluster.local", BaseDomain: "openmcp.cluster", CentralDNS: []string{"10.96.0.53", "10.96.0.54:53"}},
		},
		{
			name:   "dual stack",
			golden: "valid-dual-stack.Corefile",
			opts:   Options{ServiceCIDRs: []string{"10.97.0.0/16", "fd00:10:97::/112"}, AnnotationKey: "transparency.tenancy.x-k8s.io/clusterIP", ClusterDomain: "tenant.example"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Corefile(tc.opts)
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("Corefile differs from %s:\n%s", path, got)
			}
		})
	}
}

func TestObjectsMountWhatTheCorefileReads(t *testing.T) {
	t.Parallel()
	opts := Options{Namespace: "mcp-x", ServiceCIDRs: []string{"10.97.0.0/16"}, AnnotationKey: "k", ClusterDomain: "cluster.local", Image: "img", Labels: map[string]string{"vcdns.io/mcp": "mcp-x"}}
	cm, dep, svc := Objects(opts)
	if cm.Namespace != "mcp-x" || dep.Namespace != "mcp-x" || svc.Namespace != "mcp-x" {
		t.Fatal("objects not in the MCP namespace")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	for _, name := range []string{EnvBind, EnvKubeconfig} {
		if !strings.Contains(cm.Data[CorefileKey], "{$"+name+"}") {
			t.Errorf("Corefile does not read $%s", name)
		}
		if _, ok := env[name]; !ok {
			t.Errorf("Deployment does not set $%s", name)
		}
	}
	if !strings.HasPrefix(env[EnvKubeconfig].Value, "/etc/vcdns/") {
		t.Errorf("kubeconfig path %q is not in the mounted Secret", env[EnvKubeconfig].Value)
	}
	if sc := dep.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("tenant DNS does not run as non-root")
	}
	if dep.Spec.Template.Labels["vcdns.io/mcp"] != "mcp-x" {
		t.Error("pods do not carry the MCP label")
	}
	for k, v := range dep.Spec.Selector.MatchLabels {
		if svc.Spec.Selector[k] != v {
			t.Errorf("Service selector does not match the Deployment's pods (%s)", k)
		}
	}
}

func TestKubeconfigSecret(t *testing.T) {
	t.Parallel()
	s, err := KubeconfigSecretFor(Options{Namespace: "mcp-x"}, "https://127.0.0.1:6443", []byte("ca"), []byte("tok"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data[KubeconfigKey])
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:6443" || cfg.BearerToken != "tok" || string(cfg.CAData) != "ca" {
		t.Errorf("kubeconfig carries host %q token %q ca %q", cfg.Host, cfg.BearerToken, cfg.CAData)
	}
}

func TestTenantObjectsAreLeastPrivilege(t *testing.T) {
	t.Parallel()
	for _, obj := range TenantObjects(nil) {
		role, ok := obj.(*rbacv1.ClusterRole)
		if !ok {
			continue
		}
		for _, rule := range role.Rules {
			for _, verb := range rule.Verbs {
				if verb != "list" && verb != "watch" {
					t.Errorf("tenant DNS may %s %v", verb, rule.Resources)
				}
			}
			for _, res := range rule.Resources {
				switch res {
				case "services", "endpointslices", "namespaces":
				default:
					t.Errorf("tenant DNS may read %s", res)
				}
			}
		}
	}
}

func TestAnnotationPolicyNamesTheSyncerOnly(t *testing.T) {
	t.Parallel()
	policy, binding := AnnotationPolicy(nil, "transparency.tenancy.x-k8s.io/clusterIP", "system:serviceaccount:vcdns:syncer")
	if binding.Spec.PolicyName != policy.Name {
		t.Fatalf("binding names %q, policy is %q", binding.Spec.PolicyName, policy.Name)
	}
	expr := policy.Spec.Validations[0].Expression
	if !strings.Contains(expr, `"system:serviceaccount:vcdns:syncer"`) {
		t.Errorf("validation %q does not name the syncer", expr)
	}
	if !strings.Contains(policy.Spec.Variables[0].Expression, `"transparency.tenancy.x-k8s.io/clusterIP"`) {
		t.Errorf("policy does not watch the annotation: %q", policy.Spec.Variables[0].Expression)
	}
}
