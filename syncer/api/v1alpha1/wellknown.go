package v1alpha1

// Condition types of the vcdns kinds.
const (
	ConditionReady             = "Ready"
	ConditionReachable         = "Reachable"
	ConditionTenantReachable   = "TenantReachable"
	ConditionWorkloadReachable = "WorkloadReachable"
	ConditionSynced            = "Synced"
	ConditionCorefilePatched   = "CorefilePatched"
	// ConditionPublished is a Cluster's: whether the hostnames of its Gateways,
	// HTTPRoutes and Ingresses are published. GatewayConditionPublished is the one on
	// each Gateway.
	ConditionPublished = "Published"
	// ConditionPodDNSPolicy is a Cluster's: whether the Pod DNS policy (a
	// MutatingAdmissionPolicy that points the Pods of MCP namespaces at their tenant
	// DNS) is installed on it.
	ConditionPodDNSPolicy = "PodDNSPolicy"
	// ConditionTenantDNS is a ManagedControlPlane's: whether its tenant DNS and the
	// parameters of the Pod DNS policy are in its namespace on the workload cluster.
	ConditionTenantDNS = "TenantDNS"
	// ConditionDeleting is True on a Cluster or ManagedControlPlane that is being
	// deleted; its reason and message say what the deletion waits for.
	ConditionDeleting = "Deleting"
)

// Condition types the syncer sets on Gateway API objects, which are not vcdns kinds:
// prefixed with the vcdns domain, so that they never meet a condition of the gateway
// controller.
const (
	// GatewayConditionCopied is on tenant Gateways: whether the copy holds everything
	// the tenant asked for, and if not, what was refused.
	GatewayConditionCopied = "vcdns.io/Copied"
	// GatewayConditionPublished is on Gateways (copies and Gateways native to a
	// cluster; it flows up to the tenant Gateway): whether their hostnames are
	// published, and if not, why.
	GatewayConditionPublished = "vcdns.io/Published"
)

// Reasons of the Deleting condition and of the Events of a deletion.
const (
	// ReasonCleanupFailed: the cleanup on a remote cluster failed; the deletion waits
	// for the cluster, or for AnnotationSkipRemoteCleanup.
	ReasonCleanupFailed = "CleanupFailed"
	// ReasonRemovingCopies: an MCP namespace on a workload cluster is going away.
	ReasonRemovingCopies = "RemovingCopies"
	// ReasonCleanupSkipped: the deletion finished without the cleanup it could not do,
	// as AnnotationSkipRemoteCleanup asked.
	ReasonCleanupSkipped = "CleanupSkipped"
)

// Reasons of the PodDNSPolicy condition (and of its Events) and of the TenantDNS
// condition.
const (
	// ReasonInstalled: what the condition is about is in place.
	ReasonInstalled = "Installed"
	// ReasonMutatingAdmissionPolicyNotServed: the cluster's API server does not serve
	// admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicy; the message names
	// the flags the platform must set (FlagsMutatingAdmissionPolicy).
	ReasonMutatingAdmissionPolicyNotServed = "MutatingAdmissionPolicyNotServed"
	// ReasonInstallFailed: writing what the condition is about failed; the message says
	// why.
	ReasonInstallFailed = "InstallFailed"
	// ReasonWaiting: what the condition is about waits for something else (the tenant
	// DNS identity's token, the workload cluster, the Service's ClusterIPs).
	ReasonWaiting = "Waiting"
)

// Reasons of a Cluster's Published condition and of a GatewayDNS's Ready condition
// when the central etcd cannot be used because of certificates. Nothing is published
// while it lasts, for any cluster; what was published stays. The syncer logs the same
// message once when it starts, and a line when it ends.
const (
	// ReasonCentralEtcdNotTrusted: the syncer does not trust the central etcd's serving
	// certificate: not signed by the CA of --central-etcd-ca-file, not for the
	// endpoint's host, or expired.
	ReasonCentralEtcdNotTrusted = "CentralEtcdNotTrusted"
	// ReasonCentralEtcdRefused: the central etcd does not accept the syncer's client
	// certificate: none given (--central-etcd-cert-file, --central-etcd-key-file), not
	// signed by a CA etcd trusts, expired, or its files cannot be read.
	ReasonCentralEtcdRefused = "CentralEtcdRefused"
)

// FlagsMutatingAdmissionPolicy are the kube-apiserver flags that serve the Pod DNS
// policy's API on Kubernetes 1.35, where it is beta and off by default.
const FlagsMutatingAdmissionPolicy = "--feature-gates=MutatingAdmissionPolicy=true --runtime-config=admissionregistration.k8s.io/v1beta1=true"

// Finalizer is on every Cluster, ManagedControlPlane and GatewayDNS: deleting one
// removes what the syncer made for it first (copies and namespaces, the Corefile
// block, published names).
const Finalizer = "vcdns.io/cleanup"

// Annotations on the vcdns kinds.
const (
	// AnnotationSkipRemoteCleanup, set to "true" on a Cluster or ManagedControlPlane,
	// lets its deletion finish without the cleanup it cannot do on a cluster that does
	// not answer: the copies of an MCP in its namespace on the workload cluster, the
	// forwarding block in a Cluster's CoreDNS Corefile. What is left there stays, and a
	// Warning Event (reason CleanupSkipped) names it. Without it, a deletion waits for
	// the cluster to answer; the Deleting condition says why.
	AnnotationSkipRemoteCleanup = "vcdns.io/skip-remote-cleanup"
	// AnnotationBaseDomain on a Cluster holds the domain its objects may publish in,
	// <cluster>.<base domain>.
	AnnotationBaseDomain = "dns.openmcp.cloud/base-domain"
)

// Annotations on tenant objects and on objects of the clusters.
const (
	// AnnotationRefused holds, on a tenant Ingress (which has no conditions), what its
	// copy left out and why.
	AnnotationRefused = "vcdns.io/refused"
	// AnnotationPublishRefused holds, on HTTPRoutes and Ingresses (which have no
	// conditions of their own), which of their hostnames are not published and why.
	// The publisher writes it on the copies; it flows up to the tenant objects.
	AnnotationPublishRefused = "vcdns.io/publish-refused"
)

// EndpointSliceManagedBy is the value of the label endpointslice.kubernetes.io/managed-by
// on the EndpointSlices the syncer keeps in a tenant for a headless Service (the
// endpoints of its copy on the workload cluster). The tenant's own EndpointSlice
// controller, which manages only slices labelled with its own value, leaves them alone,
// and the syncer touches no other slice.
const EndpointSliceManagedBy = "syncer.vcdns.io"
