package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	vcdnsv1alpha1 "github.com/vcdns/vcdns/syncer/api/v1alpha1"
	"github.com/vcdns/vcdns/syncer/centraletcd"
	"github.com/vcdns/vcdns/syncer/clusters"
	"github.com/vcdns/vcdns/syncer/controllers"
	"github.com/vcdns/vcdns/syncer/dns/hostname"
	"github.com/vcdns/vcdns/syncer/dns/skydns"
	"github.com/vcdns/vcdns/syncer/naming"
	"github.com/vcdns/vcdns/syncer/publish"
)

// config is the syncer's command line.
type config struct {
	kubeconfig       string
	clusterNamespace string
	namespacePrefix  string
	tenantDNSService string
	tenantDNSImage   string
	clusterDomain    string
	workersPerMCP    int
	probeInterval    time.Duration

	platformQPS, tenantQPS, workloadQPS       float64
	platformBurst, tenantBurst, workloadBurst int
	workloadMaxInFlight                       int
	workloadTargetLatency                     time.Duration

	baseDomain    string
	recordTTL     time.Duration
	etcdEndpoints string
	etcdCAFile    string
	etcdCertFile  string
	etcdKeyFile   string
	etcdPlaintext bool
	skydnsPrefix  string
	centralDNS    string

	leaderElect      bool
	leaderElectionNS string
	leaderElectionID string
	metricsAddr      string
	probeAddr        string
	pprofAddr        string
	zapOpts          zap.Options
}

func newFlags(cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet("syncer", flag.ContinueOnError)
	fs.StringVar(&cfg.kubeconfig, "kubeconfig", "", "Kubeconfig of the platform cluster (default: in-cluster, or $KUBECONFIG)")
	fs.StringVar(&cfg.clusterNamespace, "cluster-namespace", "vcdns-system", "Platform namespace holding the Cluster objects")
	fs.StringVar(&cfg.namespacePrefix, "namespace-prefix", naming.DefaultNamespacePrefix, "Prefix of MCP namespaces")
	fs.StringVar(&cfg.tenantDNSService, "tenant-dns-service", "kube-system/kube-dns", "The tenant's DNS Service (namespace/name), never copied")
	fs.StringVar(&cfg.tenantDNSImage, "tenant-dns-image", "ghcr.io/vcdns/coredns:v1.14.7-vcdns", "Image of the patched CoreDNS run for each tenant")
	fs.StringVar(&cfg.clusterDomain, "cluster-domain", "cluster.local", "Cluster domain of the tenants")
	fs.IntVar(&cfg.workersPerMCP, "workers-per-mcp", 4, "Concurrent reconciles per MCP (each MCP has its own queue)")
	fs.DurationVar(&cfg.probeInterval, "probe-interval", 30*time.Second, "How often clusters and tenants are probed for reachability")
	fs.Float64Var(&cfg.platformQPS, "platform-qps", 50, "Client QPS towards the platform cluster")
	fs.IntVar(&cfg.platformBurst, "platform-burst", 100, "Client burst towards the platform cluster")
	fs.Float64Var(&cfg.tenantQPS, "tenant-qps", 100, "Client QPS towards each tenant API server")
	fs.IntVar(&cfg.tenantBurst, "tenant-burst", 200, "Client burst towards each tenant API server")
	fs.Float64Var(&cfg.workloadQPS, "workload-qps", 100, "Client QPS of each MCP towards its workload cluster")
	fs.IntVar(&cfg.workloadBurst, "workload-burst", 200, "Client burst of each MCP towards its workload cluster")
	fs.IntVar(&cfg.workloadMaxInFlight, "workload-max-in-flight", 16, "Most requests all MCPs of one workload cluster have in flight to it together (watches excepted); free slots go to the MCP with the fewest outstanding")
	fs.DurationVar(&cfg.workloadTargetLatency, "workload-target-latency", 200*time.Millisecond, "Write latency the syncer keeps its requests to a workload cluster within: the in-flight limit grows from 3 up to --workload-max-in-flight while writes take less, and shrinks when they take more (0: the limit stays at --workload-max-in-flight)")
	fs.StringVar(&cfg.baseDomain, "base-domain", hostname.DefaultBaseDomain, "Domain the hostnames of Gateways and Ingresses are published in; a cluster publishes below <cluster>.<base-domain>")
	fs.DurationVar(&cfg.recordTTL, "record-ttl", 30*time.Second, "TTL of the published records")
	fs.StringVar(&cfg.etcdEndpoints, "central-etcd-endpoints", "", "Comma-separated client URLs of the central DNS etcd, https:// (empty: publishing off)")
	fs.StringVar(&cfg.etcdCAFile, "central-etcd-ca-file", "", "CA certificates (PEM) the central etcd's serving certificate must be signed by (empty: the system's)")
	fs.StringVar(&cfg.etcdCertFile, "central-etcd-cert-file", "", "Client certificate (PEM) the syncer presents to the central etcd; read again for every new connection, so a renewed one is used without a restart")
	fs.StringVar(&cfg.etcdKeyFile, "central-etcd-key-file", "", "Key (PEM) of --central-etcd-cert-file")
	fs.BoolVar(&cfg.etcdPlaintext, "central-etcd-insecure-plaintext", false, "Allow http:// URLs in --central-etcd-endpoints: what the syncer publishes goes unencrypted and unauthenticated (logged as a warning); for a local test only")
	fs.StringVar(&cfg.skydnsPrefix, "skydns-prefix", skydns.DefaultPrefix, "etcd prefix of the records, the CoreDNS etcd plugin's path")
	fs.StringVar(&cfg.centralDNS, "central-dns-address", "", "Comma-separated addresses (ip or ip:port) of the central DNS every cluster's CoreDNS forwards the base domain to (empty: Corefiles are not patched)")
	fs.BoolVar(&cfg.leaderElect, "leader-elect", true, "Elect a leader so that only one syncer replica writes")
	fs.StringVar(&cfg.leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader election Lease (default: the cluster namespace)")
	fs.StringVar(&cfg.leaderElectionID, "leader-election-id", "vcdns-syncer", "Name of the leader election Lease")
	fs.StringVar(&cfg.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint (0 disables it)")
	fs.StringVar(&cfg.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints")
	fs.StringVar(&cfg.pprofAddr, "pprof-bind-address", "", "Address of the pprof endpoint (empty disables it)")
	cfg.zapOpts.BindFlags(fs)
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	fs.Var(klogFlags.Lookup("v").Value, "v", "Verbosity of client-go's messages (reflectors, leader election); they go through the syncer's logger, so --zap-log-level must let them through too")
	return fs
}

// Run runs the syncer with the command line args until ctx ends.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "mcp-namespace" {
		fs := flag.NewFlagSet("mcp-namespace", flag.ContinueOnError)
		prefix := fs.String("namespace-prefix", naming.DefaultNamespacePrefix, "Prefix of MCP namespaces")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 2 {
			return errors.New("usage: syncer mcp-namespace [--namespace-prefix P] NAMESPACE NAME")
		}
		fmt.Fprintln(stdout, naming.MCPNamespace(*prefix, fs.Arg(0), fs.Arg(1)))
		return nil
	}

	var cfg config
	fs := newFlags(&cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&cfg.zapOpts)))
	// client-go logs (reflectors, leader election) go through the same logger, in its
	// format; --v=4 --zap-log-level=4 shows client-go's V(4) messages.
	klog.SetLogger(ctrl.Log.WithName("client-go"))
	if cfg.workloadMaxInFlight < 1 {
		return fmt.Errorf("--workload-max-in-flight must be at least 1, not %d", cfg.workloadMaxInFlight)
	}
	if cfg.workloadTargetLatency < 0 {
		return fmt.Errorf("--workload-target-latency must not be negative, not %s", cfg.workloadTargetLatency)
	}
	tenantDNS, err := parseNamespacedName(cfg.tenantDNSService)
	if err != nil {
		return fmt.Errorf("--tenant-dns-service: %w", err)
	}

	restCfg, err := clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	if err != nil {
		return fmt.Errorf("loading the platform kubeconfig: %w", err)
	}
	restCfg.QPS, restCfg.Burst = float32(cfg.platformQPS), cfg.platformBurst

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, vcdnsv1alpha1.AddToScheme, gatewayv1.Install, gatewayv1beta1.Install} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	leNS := cfg.leaderElectionNS
	if leNS == "" {
		leNS = cfg.clusterNamespace
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: cfg.metricsAddr},
		HealthProbeBindAddress:        cfg.probeAddr,
		LeaderElection:                cfg.leaderElect,
		LeaderElectionID:              cfg.leaderElectionID,
		LeaderElectionNamespace:       leNS,
		LeaderElectionReleaseOnCancel: true,
		PprofBindAddress:              cfg.pprofAddr,
		// The syncer never reads managedFields; without them the caches are smaller.
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := hostname.Validate(cfg.baseDomain); err != nil {
		return fmt.Errorf("--base-domain: %w", err)
	}
	opts := controllers.Options{
		ClusterNamespace: cfg.clusterNamespace,
		NamespacePrefix:  cfg.namespacePrefix,
		TenantDNS:        tenantDNS,
		TenantDNSImage:   cfg.tenantDNSImage,
		ClusterDomain:    cfg.clusterDomain,
		WorkersPerMCP:    cfg.workersPerMCP,
		ProbeInterval:    cfg.probeInterval,
		DNS:              controllers.DNSOptions{BaseDomain: cfg.baseDomain, TTL: cfg.recordTTL, CentralDNS: splitList(cfg.centralDNS)},
	}
	tracker := clusters.NewTracker(mgr.GetClient(), scheme, clusters.TrackerOptions{
		TenantLimits:          clusters.Limits{QPS: float32(cfg.tenantQPS), Burst: cfg.tenantBurst},
		WorkloadLimits:        clusters.Limits{QPS: float32(cfg.workloadQPS), Burst: cfg.workloadBurst},
		WorkloadMaxInFlight:   cfg.workloadMaxInFlight,
		WorkloadTargetLatency: cfg.workloadTargetLatency,
	})
	publisher := &publish.Publisher{Scheme: scheme, Options: publish.Options{BaseDomain: cfg.baseDomain, TTL: cfg.recordTTL, Resync: cfg.probeInterval}}
	if endpoints := splitList(cfg.etcdEndpoints); len(endpoints) > 0 {
		conn, err := centraletcd.Connect(centraletcd.Options{
			Endpoints:         endpoints,
			CAFile:            cfg.etcdCAFile,
			CertFile:          cfg.etcdCertFile,
			KeyFile:           cfg.etcdKeyFile,
			InsecurePlaintext: cfg.etcdPlaintext,
		}, zap.NewRaw(zap.UseFlagOptions(&cfg.zapOpts)).Named("etcd"), ctrl.Log.WithName("central-etcd"))
		if err != nil {
			return err
		}
		defer conn.Close()
		publisher.Options.Guard = conn
		if publisher.Options.Store, err = skydns.NewStore(conn.Client, skydns.Options{Prefix: cfg.skydnsPrefix}); err != nil {
			return err
		}
	}
	defer publisher.StopAll()
	recorder := mgr.GetEventRecorder("vcdns-syncer")
	if err := (&controllers.ClusterReconciler{Client: mgr.GetClient(), Scheme: scheme, Recorder: recorder, Options: opts, Tracker: tracker, Publisher: publisher}).SetupWithManager(mgr); err != nil {
		return err
	}
	if publisher.Enabled() {
		if err := (&controllers.GatewayDNSReconciler{Client: mgr.GetClient(), Scheme: scheme, Options: opts, Tracker: tracker, Publisher: publisher}).SetupWithManager(mgr); err != nil {
			return err
		}
	}
	mcps := &controllers.MCPReconciler{Client: mgr.GetClient(), Scheme: scheme, Recorder: recorder, Options: opts, Tracker: tracker}
	if err := mcps.SetupWithManager(mgr); err != nil {
		return err
	}
	defer mcps.StopAll()
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	ctrl.Log.Info("Starting the syncer", "clusterNamespace", cfg.clusterNamespace, "workersPerMCP", cfg.workersPerMCP)
	return mgr.Start(ctx)
}

func parseNamespacedName(s string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" {
		return types.NamespacedName{}, fmt.Errorf("%q is not namespace/name", s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
