package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/vcdns/vcdns/e2e/landscape"
	"github.com/vcdns/vcdns/e2e/vcdnsenv"
	"github.com/vcdns/vcdns/images"
)

// envName is the variable name part of a cluster's name: upper case, every character
// but letters and digits as _.
func envName(cluster string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			return r
		}
		return '_'
	}, cluster)
}

// writeLandscapeEnv writes shell assignments, one a line: VCDNS_KUBECONFIG_<NAME> (the
// admin kubeconfig) for every cluster and tenant control plane, and VCDNS_TEST_IMAGE,
// the image of the nodes with sh, nslookup and wget.
func writeLandscapeEnv(path string, env *vcdnsenv.Env) error {
	clusters := []*landscape.Cluster{env.Platform}
	for _, n := range slices.Sorted(maps.Keys(env.Workloads)) {
		clusters = append(clusters, env.Workloads[n])
	}
	for _, n := range slices.Sorted(maps.Keys(env.Tenants)) {
		clusters = append(clusters, env.Tenants[n])
	}
	var b strings.Builder
	for _, c := range clusters {
		fmt.Fprintf(&b, "VCDNS_KUBECONFIG_%s=%s\n", envName(c.Name), shellQuote(c.KubeconfigPath))
	}
	fmt.Fprintf(&b, "VCDNS_TEST_IMAGE=%s\n", shellQuote(images.Probe.Ref()))
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// printKeep tells how to use the landscape that keeps running.
func printKeep(out io.Writer, env *vcdnsenv.Env, deployed *vcdnsenv.Deployment, envFile, root string) {
	fmt.Fprintf(out, "The landscape keeps running. Its kubeconfigs and the test image are in %s:\n\n", envFile)
	b, _ := os.ReadFile(envFile)
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		fmt.Fprintln(out, "  "+l)
	}
	fmt.Fprintf(out, "\nvcdns runs in the namespace %s of the platform (overlay: %s); its central DNS serves at %s. Try, in another shell:\n\n",
		vcdnsenv.ClusterNamespace, deployed.Overlay, deployed.CentralDNSAddress)
	fmt.Fprintf(out, "  set -a; . %s; set +a; PATH=%s:$PATH\n", envFile, filepath.Join(root, "bin"))
	fmt.Fprintln(out, `  kubectl --kubeconfig "$VCDNS_KUBECONFIG_PLATFORM" get managedcontrolplanes,clusters,gatewaydnses -A`)
	fmt.Fprintln(out, `  kubectl --kubeconfig "$VCDNS_KUBECONFIG_PLATFORM" -n vcdns-system get pods,leases`)
	fmt.Fprintln(out, `  kubectl --kubeconfig "$VCDNS_KUBECONFIG_PLATFORM" -n vcdns-system logs deploy/vcdns-syncer`)
	fmt.Fprintln(out, `  kubectl --kubeconfig "$VCDNS_KUBECONFIG_TENANT_TEAM_A_MCP1" create service clusterip hello --tcp=80`)
	fmt.Fprintf(out, "  kubectl --kubeconfig \"$VCDNS_KUBECONFIG_WORKLOAD_1\" -n %s run poke -it --rm --restart=Never \\\n", vcdnsenv.MCPNamespace(mcp1))
	fmt.Fprintln(out, `      --image "$VCDNS_TEST_IMAGE" --image-pull-policy=Never --command -- sh`)
	fmt.Fprintln(out, "  and in the Pod:")
	fmt.Fprintln(out, "    nslookup hello.default.svc.cluster.local")
	fmt.Fprintln(out, "    wget -qO- http://my-nginx.default.svc.cluster.local/")
	fmt.Fprintln(out, "    wget -qO- http://web-0.web.default.svc.cluster.local:8080/")
	fmt.Fprintln(out, "    wget -qO- http://app.workload-1.openmcp.cluster/")
	fmt.Fprintf(out, "\nStop: press Ctrl-C here, or kill %d. Logs: %s\n", os.Getpid(), env.L.Dir())
}
