// Package mcpsync runs one MCP's sync session: the caches of its tenant control plane
// and of its namespace on the workload cluster, one controller per kind of the
// registry (kinds.go: Services, Gateways, HTTPRoutes, Ingresses), and the one flow
// every kind goes through (sync.go): copy down, what the copy says back up (for a
// headless Service also its endpoints, as EndpointSlices of the syncer's in the
// tenant: endpointslices.go). What differs per kind is a value handed to that flow,
// not a second loop. The Session tells the MCP reconciler how far it got (Status).
package mcpsync
