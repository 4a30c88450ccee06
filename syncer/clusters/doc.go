// Package clusters is the syncer's one way to the clusters it talks to besides the
// platform: tenant API servers and workload clusters. Its Tracker turns a kubeconfig
// Secret into a client (built once per kubeconfig, dropped when unused), probes
// reachability, knows who the syncer is there, and keeps one FairLimiter per workload
// cluster for the MCPs that share it. NewCluster builds the cache of a remote cluster,
// Run starts caches and then controllers on them, Retry runs such a session again with
// backoff. No other package reads kubeconfig Secrets.
package clusters
