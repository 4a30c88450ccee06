// Package controllers holds the syncer's three reconcilers, one per root kind:
// ManagedControlPlane (MCPReconciler), Cluster (ClusterReconciler) and GatewayDNS
// (GatewayDNSReconciler). Each loads what a reconcile needs into a scope, runs a list
// of phases that each do one thing and set their conditions, and writes the status once
// at the end, as cluster-api's reconcilers do. Remote clusters come from the
// clusters.Tracker, an MCP's sync session from mcpsync, publishing from publish.
package controllers
