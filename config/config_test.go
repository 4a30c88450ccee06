// Package config holds the kustomize manifests of vcdns; it has no Go code. Its tests
// render every kustomization with the kustomize Go API (no kustomize binary needed),
// check what can be checked without a cluster (flags, images, references, Corefiles,
// the generated tenant DNS template), and apply everything server-side to a real
// kube-apiserver of the local landscape, so that every object is valid against the
// API schemas.
//
// config/tenant-dns is generated from syncer/tenantdns; regenerate it with
//
//	go test ./config -run TestTenantDNSTemplate -update
package config

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coredns/caddy/caddyfile"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/tenantdns"
)

var update = flag.Bool("update", false, "rewrite the generated manifests in config/tenant-dns")

// Where a kustomization's objects go.
const (
	platform = "platform cluster"
	tenant   = "tenant control plane"
)

// kustomizations are all the kustomizations under config/ (TestEveryKustomizationIsListed
// keeps the list complete) and the cluster each is applied to.
var kustomizations = []struct {
	dir     string
	cluster string
	// uses are the kustomizations that hold what this one refers to, besides itself.
	uses []string
}{
	{dir: "crd", cluster: platform},
	{dir: "rbac", cluster: platform},
	{dir: "syncer", cluster: platform, uses: []string{"rbac"}},
	{dir: "central-dns", cluster: platform},
	{dir: "default", cluster: platform},
	{dir: "tenant-dns", cluster: platform},
	{dir: "tenant-dns/tenant", cluster: tenant},
	{dir: "samples", cluster: platform},
	{dir: "samples/tenant", cluster: tenant},
}

// syncerFlagsNotSet are the flags of cmd/syncer that config/syncer/deployment.yaml
// leaves at their defaults on purpose, and why. Every other flag is set there.
var syncerFlagsNotSet = map[string]string{
	"kubeconfig":           "in a Pod the syncer uses its ServiceAccount",
	"pprof-bind-address":   "profiling stays off in production",
	"zap-devel":            "production logging (JSON, no development mode)",
	"zap-encoder":          "the production default, JSON",
	"zap-stacktrace-level": "the production default (error)",
	"zap-time-encoding":    "the production default",
	"v":                    "client-go's verbosity: 0 unless debugging",
	"central-dns-address":  "the central DNS address every cluster can reach (its load balancer's) is known only once deployed: set it in an overlay, as hack/kind-demo.sh does",
}

// externalSecrets are the Secrets the Pods of config/ mount that no kustomization
// holds, and who makes them. Their keys are the cert-manager layout of a Certificate's
// Secret: ca.crt, tls.crt, tls.key.
var externalSecrets = map[string]string{
	"vcdns-etcd-server-tls":             "cert-manager (config/samples/cert-manager) or the platform: the central etcd's serving certificate",
	"vcdns-etcd-peer-tls":               "cert-manager (config/samples/cert-manager) or the platform: the certificate the central etcd's members present to each other",
	"vcdns-etcd-client-tls":             "cert-manager (config/samples/cert-manager) or the platform: the syncer's client certificate for the central etcd",
	"vcdns-central-dns-etcd-client-tls": "cert-manager (config/samples/cert-manager) or the platform: the central CoreDNS's client certificate for the central etcd",
}

// object is one rendered object and the kustomization it came from.
type object struct {
	dir string
	*unstructured.Unstructured
}

func (o object) String() string {
	name := o.GetName()
	if ns := o.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%s %s (config/%s)", o.GetKind(), name, o.dir)
}

// render builds the kustomization in config/dir.
func render(t testing.TB, dir string) []object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build config/%s: %v", dir, err)
	}
	var out []object
	for _, r := range m.Resources() {
		// Through JSON: numbers become what unstructured expects (int64, float64).
		data, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("config/%s: %v", dir, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatalf("config/%s: %v", dir, err)
		}
		out = append(out, object{dir: dir, Unstructured: u})
	}
	if len(out) == 0 {
		t.Fatalf("config/%s renders nothing", dir)
	}
	return out
}

// renderAll renders every kustomization, by directory.
func renderAll(t testing.TB) map[string][]object {
	t.Helper()
	all := map[string][]object{}
	for _, k := range kustomizations {
		all[k.dir] = render(t, k.dir)
	}
	return all
}

func TestEveryKustomizationIsListed(t *testing.T) {
	t.Parallel()
	var found []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "kustomization.yaml" {
			found = append(found, filepath.ToSlash(filepath.Dir(path)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, k := range kustomizations {
		listed = append(listed, k.dir)
	}
	slices.Sort(found)
	slices.Sort(listed)
	if !slices.Equal(found, listed) {
		t.Errorf("kustomizations under config/: %v; listed in config_test.go: %v", found, listed)
	}
}

func TestKustomizationsRender(t *testing.T) {
	t.Parallel()
	for _, k := range kustomizations {
		t.Run(k.dir, func(t *testing.T) {
			t.Parallel()
			seen := map[string]bool{}
			for _, o := range render(t, k.dir) {
				if o.GetAPIVersion() == "" || o.GetKind() == "" || o.GetName() == "" {
					t.Errorf("%s: apiVersion, kind and name are required", o)
				}
				if seen[o.String()] {
					t.Errorf("%s twice", o)
				}
				seen[o.String()] = true
			}
		})
	}
}

// TestCRDKustomizationListsEveryCRD: make generate may add a CRD to config/crd/bases;
// it is deployed only once config/crd/kustomization.yaml lists it.
func TestCRDKustomizationListsEveryCRD(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("crd/bases/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, strings.TrimPrefix(filepath.ToSlash(f), "crd/"))
	}
	data, err := os.ReadFile("crd/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("config/crd/kustomization.yaml lists %v; config/crd/bases holds %v", got, want)
	}
}

// syncerFlags reads the names of the flags cmd/syncer defines in newFlags, plus the
// zap logging flags it binds.
func syncerFlags(t *testing.T) []string {
	t.Helper()
	path := filepath.Join("..", "cmd", "syncer", "run.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var fn *ast.FuncDecl
	for _, d := range f.Decls {
		if d, ok := d.(*ast.FuncDecl); ok && d.Name.Name == "newFlags" {
			fn = d
		}
	}
	if fn == nil {
		t.Fatalf("%s has no func newFlags: update syncerFlags in config_test.go", path)
	}
	ast.Inspect(fn, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "fs" {
			return true
		}
		method := sel.Sel.Name
		arg := 0
		if strings.HasSuffix(method, "Var") {
			arg = 1
		}
		switch method {
		case "Parse", "Parsed", "Args", "NArg", "Arg", "Set", "Lookup", "VisitAll", "Visit", "SetOutput", "PrintDefaults", "Usage":
			return true
		}
		if len(call.Args) <= arg {
			t.Fatalf("%s: fs.%s with too few arguments", path, method)
		}
		lit, ok := call.Args[arg].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Fatalf("%s: fs.%s names its flag with something else than a string literal: update syncerFlags in config_test.go", path, method)
		}
		name, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		return true
	})
	zfs := flag.NewFlagSet("zap", flag.ContinueOnError)
	(&zap.Options{}).BindFlags(zfs)
	zfs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if len(names) < 10 {
		t.Fatalf("found only %d flags in %s: %v", len(names), path, names)
	}
	return names
}

// deployment finds a Deployment in objs.
func deployment(t *testing.T, objs []object, name string) *appsv1.Deployment {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == name {
			d := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d); err != nil {
				t.Fatalf("%s: %v", o, err)
			}
			return d
		}
	}
	t.Fatalf("no Deployment %s", name)
	return nil
}

// syncerArgs are the args of the syncer container of config/syncer, by flag name.
func syncerArgs(t *testing.T) map[string]string {
	t.Helper()
	d := deployment(t, render(t, "syncer"), "vcdns-syncer")
	args := map[string]string{}
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !ok {
			t.Errorf("syncer arg %q is not --flag=value", a)
			continue
		}
		if _, dup := args[name]; dup {
			t.Errorf("syncer arg --%s twice", name)
		}
		args[name] = value
	}
	return args
}

// TestSyncerArgs: the Deployment sets every flag of cmd/syncer that matters, and only
// flags that exist.
func TestSyncerArgs(t *testing.T) {
	t.Parallel()
	flags := sets.New(syncerFlags(t)...)
	args := syncerArgs(t)
	for name := range args {
		if !flags.Has(name) {
			t.Errorf("config/syncer/deployment.yaml sets --%s, which cmd/syncer does not define", name)
		}
		if why, ok := syncerFlagsNotSet[name]; ok {
			t.Errorf("config/syncer/deployment.yaml sets --%s, which config_test.go says is left out (%s)", name, why)
		}
	}
	for _, name := range sets.List(flags) {
		_, set := args[name]
		_, notSet := syncerFlagsNotSet[name]
		if !set && !notSet {
			t.Errorf("cmd/syncer defines --%s: set it in config/syncer/deployment.yaml, or say in syncerFlagsNotSet (config_test.go) why not", name)
		}
	}
	for name := range syncerFlagsNotSet {
		if !flags.Has(name) {
			t.Errorf("syncerFlagsNotSet names --%s, which cmd/syncer does not define", name)
		}
	}
	// The leader election RBAC names the Lease.
	if id := args["leader-election-id"]; id != "" {
		role := ""
		for _, o := range render(t, "rbac") {
			if o.GetKind() == "Role" {
				b, _ := yaml.Marshal(o.Object)
				role = string(b)
			}
		}
		if !strings.Contains(role, "- "+id+"\n") {
			t.Errorf("the leader election Role of config/rbac does not name the Lease %q", id)
		}
	}
}

// versions reads hack/versions.env.
func versions(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "hack", "versions.env"))
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			v[k] = val
		}
	}
	return v
}

// TestImagesFollowThePins: the images run the versions hack/versions.env pins, and
// the tenant DNS the syncer deploys is the same patched CoreDNS as the central one.
func TestImagesFollowThePins(t *testing.T) {
	t.Parallel()
	v := versions(t)
	coredns := "ghcr.io/vcdns/coredns:" + v["COREDNS_VERSION"] + "-vcdns"
	want := map[string]string{
		"vcdns-etcd":        "ghcr.io/vcdns/etcd:" + v["ETCD_VERSION"],
		"vcdns-central-dns": coredns,
		"vcdns-syncer":      "ghcr.io/vcdns/syncer:",
	}
	got := map[string]string{}
	for _, o := range render(t, "default") {
		spec, ok, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if !ok {
			continue
		}
		for _, c := range spec {
			got[o.GetName()] = c.(map[string]any)["image"].(string)
		}
	}
	for name, image := range want {
		if strings.HasSuffix(image, ":") {
			if !strings.HasPrefix(got[name], image) || got[name] == image {
				t.Errorf("%s runs %q, want a tagged %s", name, got[name], strings.TrimSuffix(image, ":"))
			}
			continue
		}
		if got[name] != image {
			t.Errorf("%s runs %q, want %q (hack/versions.env)", name, got[name], image)
		}
	}
	if img := syncerArgs(t)["tenant-dns-image"]; img != coredns {
		t.Errorf("--tenant-dns-image=%s, want %s", img, coredns)
	}
}

// TestReferences: what the objects of each kustomization refer to by name is in the
// same kustomization, after kustomize's renaming (generated ConfigMap names) and
// namespacing.
func TestReferences(t *testing.T) {
	t.Parallel()
	all := renderAll(t)
	for _, k := range kustomizations {
		dir, objs := k.dir, all[k.dir]
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			have := sets.New[string]()
			key := func(kind, ns, name string) string { return kind + " " + ns + "/" + name }
			for _, d := range append([]string{dir}, k.uses...) {
				for _, o := range all[d] {
					have.Insert(key(o.GetKind(), o.GetNamespace(), o.GetName()))
				}
			}
			need := func(o object, kind, ns, name string) {
				if !have.Has(key(kind, ns, name)) {
					t.Errorf("%s refers to %s %s/%s, which neither config/%s nor what it uses %v holds", o, kind, ns, name, dir, k.uses)
				}
			}
			var podLabels []labels.Set
			for _, o := range objs {
				ns := o.GetNamespace()
				if tmpl, ok, _ := unstructured.NestedMap(o.Object, "spec", "template"); ok && o.GetKind() != "Job" {
					pt := &corev1.PodTemplateSpec{}
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, pt); err != nil {
						t.Fatalf("%s: %v", o, err)
					}
					podLabels = append(podLabels, pt.Labels)
					podRefs(o, pt.Spec, need)
					if pt.Spec.ServiceAccountName != "" {
						need(o, "ServiceAccount", ns, pt.Spec.ServiceAccountName)
					}
					if sel, ok, _ := unstructured.NestedStringMap(o.Object, "spec", "selector", "matchLabels"); ok {
						if !labels.SelectorFromSet(sel).Matches(labels.Set(pt.Labels)) {
							t.Errorf("%s: its selector does not match its Pod template", o)
						}
					}
				}
				switch o.GetKind() {
				case "RoleBinding", "ClusterRoleBinding":
					refKind, _, _ := unstructured.NestedString(o.Object, "roleRef", "kind")
					refName, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
					refNS := ""
					if refKind == "Role" {
						refNS = ns
					}
					need(o, refKind, refNS, refName)
					subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
					for _, s := range subjects {
						s := s.(map[string]any)
						if s["kind"] == "ServiceAccount" {
							need(o, "ServiceAccount", s["namespace"].(string), s["name"].(string))
						}
					}
				case "Cluster", "ManagedControlPlane":
					secret, _, _ := unstructured.NestedString(o.Object, "spec", "kubeconfigSecretRef", "name")
					need(o, "Secret", ns, secret)
				case "HTTPRoute":
					parents, _, _ := unstructured.NestedSlice(o.Object, "spec", "parentRefs")
					for _, p := range parents {
						need(o, "Gateway", ns, p.(map[string]any)["name"].(string))
					}
				case "Ingress":
					rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "rules")
					for _, r := range rules {
						paths, _, _ := unstructured.NestedSlice(r.(map[string]any), "http", "paths")
						for _, p := range paths {
							svc, _, _ := unstructured.NestedString(p.(map[string]any), "backend", "service", "name")
							need(o, "Service", ns, svc)
						}
					}
				}
			}
			for _, o := range objs {
				if o.GetKind() != "Service" {
					continue
				}
				sel, ok, _ := unstructured.NestedStringMap(o.Object, "spec", "selector")
				if !ok || len(sel) == 0 || dir == "samples/tenant" { // the tenant's Pods are not samples
					continue
				}
				if !slices.ContainsFunc(podLabels, func(l labels.Set) bool { return labels.SelectorFromSet(sel).Matches(l) }) {
					t.Errorf("%s selects no Pod template of config/%s", o, dir)
				}
			}
		})
	}
}

// podRefs reports the ConfigMaps and Secrets a Pod spec needs.
func podRefs(o object, spec corev1.PodSpec, need func(o object, kind, ns, name string)) {
	ns := o.GetNamespace()
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil && (v.ConfigMap.Optional == nil || !*v.ConfigMap.Optional) {
			need(o, "ConfigMap", ns, v.ConfigMap.Name)
		}
		if v.Secret != nil && (v.Secret.Optional == nil || !*v.Secret.Optional) {
			if _, external := externalSecrets[v.Secret.SecretName]; !external {
				need(o, "Secret", ns, v.Secret.SecretName)
			}
		}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				need(o, "ConfigMap", ns, e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				need(o, "Secret", ns, e.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				need(o, "ConfigMap", ns, r.Name)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				need(o, "Secret", ns, r.Name)
			}
		}
	}
}

// corefileEnv matches the environment variables a Corefile reads.
var corefileEnv = regexp.MustCompile(`\{\$([A-Za-z0-9_]+)\}`)

// TestCorefiles: every Corefile in a ConfigMap parses with CoreDNS's own Caddyfile
// parser, names only plugins that bin/coredns has (when it is built), and every
// container that mounts it sets the environment variables it reads.
func TestCorefiles(t *testing.T) {
	t.Parallel()
	var plugins []string
	if out, err := exec.Command(filepath.Join("..", "bin", "coredns"), "-plugins").Output(); err == nil {
		plugins = strings.Fields(string(out))
	} else {
		t.Logf("bin/coredns -plugins: %v; plugin names are not checked (make coredns builds it)", err)
	}
	corefiles := 0
	for dir, objs := range renderAll(t) {
		for _, o := range objs {
			if o.GetKind() != "ConfigMap" {
				continue
			}
			data, _, _ := unstructured.NestedStringMap(o.Object, "data")
			for key, text := range data {
				if key != "Corefile" && !strings.HasSuffix(key, ".Corefile") {
					continue
				}
				corefiles++
				t.Run(dir+"/"+o.GetName()+"/"+key, func(t *testing.T) {
					blocks, err := caddyfile.Parse(key, strings.NewReader(text), plugins)
					if err != nil {
						t.Fatalf("%s: %v", o, err)
					}
					if len(blocks) == 0 {
						t.Fatalf("%s: no server block", o)
					}
					env := sets.New[string]()
					for _, m := range corefileEnv.FindAllStringSubmatch(text, -1) {
						env.Insert(m[1])
					}
					checkCorefileEnv(t, objs, o, env)
				})
			}
		}
	}
	if corefiles < 2 {
		t.Errorf("found %d Corefiles, want the central and the tenant one at least", corefiles)
	}
}

// checkCorefileEnv checks that the containers mounting cm set the variables in env.
func checkCorefileEnv(t *testing.T, objs []object, cm object, env sets.Set[string]) {
	t.Helper()
	mounted := false
	for _, o := range objs {
		tmpl, ok, _ := unstructured.NestedMap(o.Object, "spec", "template")
		if !ok {
			continue
		}
		pt := &corev1.PodTemplateSpec{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, pt); err != nil {
			t.Fatal(err)
		}
		for _, v := range pt.Spec.Volumes {
			if v.ConfigMap == nil || v.ConfigMap.Name != cm.GetName() {
				continue
			}
			for _, c := range pt.Spec.Containers {
				if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == v.Name }) {
					continue
				}
				mounted = true
				set := sets.New[string]()
				for _, e := range c.Env {
					set.Insert(e.Name)
				}
				if missing := env.Difference(set); missing.Len() > 0 {
					t.Errorf("%s reads $%s, which container %s of %s does not set", cm, strings.Join(sets.List(missing), ", $"), c.Name, o)
				}
			}
		}
	}
	if !mounted {
		t.Errorf("no container mounts %s", cm)
	}
}

// The tenant DNS template: what the syncer renders for the MCP team-a/mcp1 on a
// workload cluster with the service range 10.96.0.0/16.
const (
	templateServer = "https://REPLACED-BY-THE-SYNCER.tenant-api.example:6443"
	templateToken  = "REPLACED-BY-THE-SYNCER"
	// templateSyncerUser is the syncer's user name in the tenant control plane, the
	// one user the admission policy lets change the clusterIP annotation; the
	// syncer asks the tenant who it is.
	templateSyncerUser = "vcdns-syncer"
)

const generatedHeader = "# Generated by `go test ./config -run TestTenantDNSTemplate -update` from\n" +
	"# syncer/tenantdns, what the syncer renders for the MCP team-a/mcp1; do not edit.\n"

// TestTenantDNSTemplate keeps config/tenant-dns equal to what syncer/tenantdns
// renders.
func TestTenantDNSTemplate(t *testing.T) {
	t.Parallel()
	ns := naming.MCPNamespace(naming.DefaultNamespacePrefix, "team-a", "mcp1")
	lbls := map[string]string{naming.LabelMCP: ns}
	opts := tenantdns.Options{
		Namespace:     ns,
		Labels:        lbls,
		ServiceCIDRs:  []string{"10.96.0.0/16"},
		AnnotationKey: naming.ClusterIPAnnotation,
		ClusterDomain: syncerArgs(t)["cluster-domain"],
		Image:         syncerArgs(t)["tenant-dns-image"],
	}
	secret, err := tenantdns.KubeconfigSecretFor(opts, templateServer, nil, []byte(templateToken))
	if err != nil {
		t.Fatal(err)
	}
	cm, dep, svc := tenantdns.Objects(opts)
	policy, binding := tenantdns.AnnotationPolicy(lbls, naming.ClusterIPAnnotation, templateSyncerUser)
	podPolicy, podBinding := tenantdns.PodDNSPolicy(nil, naming.LabelMCP)
	files := map[string][]client.Object{
		filepath.Join("tenant-dns", "workload.yaml"):         {cm, dep, svc, secret},
		filepath.Join("tenant-dns", "pod-dns-policy.yaml"):   {podPolicy, podBinding},
		filepath.Join("tenant-dns", "tenant", "tenant.yaml"): append(tenantdns.TenantObjects(lbls), policy, binding),
	}
	for path, objs := range files {
		got := manifest(t, objs)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("config/%s is not what syncer/tenantdns renders: run `go test ./config -run TestTenantDNSTemplate -update`", path)
		}
	}
}

// manifest renders objs as a multi-document YAML file, without the fields a typed
// object always carries but a manifest does not (creationTimestamp, empty status).
func manifest(t *testing.T, objs []client.Object) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(generatedHeader)
	for _, obj := range objs {
		gvks, _, err := clientgoscheme.Scheme.ObjectKinds(obj)
		if err != nil {
			t.Fatal(err)
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(gvks[0])
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
		if st, ok, _ := unstructured.NestedMap(u.Object, "status"); ok && len(st) == 0 {
			unstructured.RemoveNestedField(u.Object, "status")
		}
		y, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes()
}

// tlsFile matches the certificate and key paths in args and environment variables.
var tlsFile = regexp.MustCompile(`/[^\s,=]+\.(crt|key)\b`)

// TestCentralEtcdTLS: the central etcd serves clients and peers over TLS only and asks
// both for certificates; the syncer and the central CoreDNS reach it over https with
// theirs. Every certificate file named in args or environment is a key of the
// cert-manager layout in a mounted Secret of externalSecrets, and every one of those is
// mounted.
func TestCentralEtcdTLS(t *testing.T) {
	t.Parallel()
	mounted := sets.New[string]()
	args := map[string][]string{} // container -> args and env values
	for _, o := range render(t, "default") {
		tmpl, ok, _ := unstructured.NestedMap(o.Object, "spec", "template")
		if !ok {
			continue
		}
		pt := &corev1.PodTemplateSpec{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, pt); err != nil {
			t.Fatal(err)
		}
		secretOf := map[string]string{} // volume -> Secret
		for _, v := range pt.Spec.Volumes {
			if v.Secret != nil {
				secretOf[v.Name] = v.Secret.SecretName
			}
		}
		for _, c := range pt.Spec.Containers {
			values := slices.Clone(c.Args)
			for _, e := range c.Env {
				values = append(values, e.Value)
			}
			args[o.GetName()] = values
			for _, v := range values {
				for _, path := range tlsFile.FindAllString(v, -1) {
					dir, file := filepath.Split(path)
					i := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return strings.TrimSuffix(m.MountPath, "/")+"/" == dir })
					if i < 0 || secretOf[c.VolumeMounts[i].Name] == "" {
						t.Errorf("%s: %s is not in a mounted Secret", o, path)
						continue
					}
					secret := secretOf[c.VolumeMounts[i].Name]
					if _, ok := externalSecrets[secret]; !ok {
						t.Errorf("%s: %s is in Secret %s, which externalSecrets does not name", o, path, secret)
					}
					if file != "ca.crt" && file != "tls.crt" && file != "tls.key" {
						t.Errorf("%s: %s: want ca.crt, tls.crt or tls.key, the keys of a cert-manager Certificate's Secret", o, path)
					}
					mounted.Insert(secret)
				}
			}
		}
	}
	for name, why := range externalSecrets {
		if !mounted.Has(name) {
			t.Errorf("externalSecrets names %s (%s), which no container reads a certificate from", name, why)
		}
	}
	has := func(who string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.ContainsFunc(args[who], func(a string) bool { return strings.HasPrefix(a, w) }) {
				t.Errorf("%s: no arg or environment variable %q in %q", who, w, args[who])
			}
		}
	}
	has("vcdns-etcd", "--listen-client-urls=https://", "--advertise-client-urls=https://", "--listen-peer-urls=https://",
		"--initial-advertise-peer-urls=https://", "--client-cert-auth=true", "--peer-client-cert-auth=true",
		"--cert-file=", "--key-file=", "--trusted-ca-file=", "--peer-cert-file=", "--peer-key-file=", "--peer-trusted-ca-file=")
	for _, a := range args["vcdns-etcd"] {
		if strings.Contains(a, "http://") && !strings.HasPrefix(a, "--listen-metrics-urls=") {
			t.Errorf("vcdns-etcd: %s is plain HTTP", a)
		}
	}
	has("vcdns-syncer", "--central-etcd-endpoints=https://", "--central-etcd-ca-file=/", "--central-etcd-cert-file=/", "--central-etcd-key-file=/", "--central-etcd-insecure-plaintext=false")
	has("vcdns-central-dns", "https://")
}

// TestCertManagerSample: config/samples/cert-manager makes exactly the Secrets the
// Pods of config/ mount and no kustomization holds (externalSecrets), each signed by
// the CA Issuer, with the usages its holder needs.
func TestCertManagerSample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("samples", "cert-manager", "etcd-certificates.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantUsage := map[string][]string{
		"vcdns-etcd-server-tls":             {"server auth"},
		"vcdns-etcd-peer-tls":               {"server auth", "client auth"},
		"vcdns-etcd-client-tls":             {"client auth"},
		"vcdns-central-dns-etcd-client-tls": {"client auth"},
	}
	got := sets.New[string]()
	for _, doc := range strings.Split(string(data), "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		if u.GetKind() != "Certificate" {
			continue
		}
		if ca, _, _ := unstructured.NestedBool(u.Object, "spec", "isCA"); ca {
			continue
		}
		secret, _, _ := unstructured.NestedString(u.Object, "spec", "secretName")
		got.Insert(secret)
		if issuer, _, _ := unstructured.NestedString(u.Object, "spec", "issuerRef", "name"); issuer != "vcdns-etcd-ca" {
			t.Errorf("Certificate %s is issued by %q, want the CA Issuer vcdns-etcd-ca", u.GetName(), issuer)
		}
		usages, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "usages")
		for _, want := range wantUsage[secret] {
			if !slices.Contains(usages, want) {
				t.Errorf("Certificate %s (Secret %s) has usages %q, want %q", u.GetName(), secret, usages, want)
			}
		}
	}
	want := sets.KeySet(externalSecrets)
	if !got.Equal(want) {
		t.Errorf("config/samples/cert-manager makes the Secrets %v, want %v (externalSecrets)", sets.List(got), sets.List(want))
	}
}
