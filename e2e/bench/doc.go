// Package bench measures the Service flows of vcdns on the local landscape (issue 7):
//
//   - service_makespan_ratio: MCPs create Services all at once; the time until every
//     tenant Service carries its clusterIP annotation, divided by the time to create
//     the same number of Services straight on the workload cluster with the same
//     number of concurrent clients.
//   - service_p99_ms: Services created at a steady rate in one MCP; p99 of the time
//     from the create to the tenant CoreDNS, run from the Corefile the syncer
//     rendered, answering the workload cluster's IP.
//   - fair_regular_p99_ms: two MCPs create many Services at once while the others
//     create a few, one at a time; p99 of the latter's create-to-annotation latency.
//   - dns_qps_ratio: queries per second of the patched CoreDNS with
//     clusterip_annotation against the upstream build of the same release, each pinned
//     to one core, measured with dnsperf.
//   - syncer_bytes_per_object: growth of the syncer's resident memory per synced
//     Service.
//   - restart_writes and restart_resync_s: what a restarted syncer writes when nothing
//     changed (from the API servers' audit logs), and how long it takes to go over
//     every object again.
//
// Run builds the landscapes, runs every scenario at a Scale and returns the figures
// with the latencies behind them; WriteResults, WriteTable and WritePlot report them.
// cmd/vcdns-bench is the command `make bench` runs; TestBenchSmoke runs every scenario
// at the Smoke scale inside `make test`.
package bench
