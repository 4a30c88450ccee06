package bench

import "time"

// Scale sizes the scenarios.
type Scale struct {
	Name string
	// Settle makes every scenario wait until the landscape is about as quiet as it is
	// idle before it measures.
	Settle bool
	// ProbeInterval is the syncer's --probe-interval: how often every MCP and Cluster
	// is reconciled even when nothing changed.
	ProbeInterval time.Duration
	// MCPs is the number of tenant control planes, all on one workload cluster.
	MCPs int
	// ServicesPerMCP Services are created in every MCP at once for the makespan; the
	// baseline creates MCPs*ServicesPerMCP on the workload cluster.
	ServicesPerMCP int
	// ClientsPerMCP is the number of concurrent creates in each MCP; the baseline uses
	// MCPs*ClientsPerMCP concurrent creates, the same number.
	ClientsPerMCP int
	// RateCreates Services are created in one MCP at Rate per second for the
	// propagation latency.
	RateCreates int
	Rate        float64
	// FairBulkMCPs MCPs create FairBulkServices Services each at once, while every
	// other MCP creates FairRegularServices one at a time: the next once the previous
	// one has its annotation, and at most one per FairRegularInterval.
	FairBulkMCPs        int
	FairBulkServices    int
	FairRegularServices int
	FairRegularInterval time.Duration
	// DNSServices Services, each with the annotation, are served by both CoreDNS builds;
	// DNSRounds rounds run the load generator DNSDuration against each.
	DNSServices int
	DNSRounds   int
	DNSDuration time.Duration
	// PublishGateways Gateways are created in one MCP at PublishRate per second for the
	// publication latency.
	PublishGateways int
	PublishRate     float64
	// DNSAnswerTimeout is how long a created Service may take to resolve to its
	// workload IP; one that does not counts as this long.
	DNSAnswerTimeout time.Duration
}

// Full is the scale of issue 7: 8 MCPs of 1250 Services, 10000 Services in all.
var Full = Scale{
	Name:                "full",
	Settle:              true,
	ProbeInterval:       30 * time.Second, // the syncer's default
	MCPs:                8,
	ServicesPerMCP:      1250,
	ClientsPerMCP:       4,
	RateCreates:         600,
	Rate:                10,
	FairBulkMCPs:        2,
	FairBulkServices:    1000,
	FairRegularServices: 10,
	FairRegularInterval: 500 * time.Millisecond,
	DNSServices:         10000,
	DNSRounds:           3,
	DNSDuration:         10 * time.Second,
	DNSAnswerTimeout:    90 * time.Second,
	PublishGateways:     100,
	PublishRate:         5,
}

// Smoke runs every scenario at a tiny scale, to prove that each produces a figure.
var Smoke = Scale{
	Name:                "smoke",
	ProbeInterval:       2 * time.Second,
	MCPs:                2,
	ServicesPerMCP:      10,
	ClientsPerMCP:       2,
	RateCreates:         5,
	Rate:                10,
	FairBulkMCPs:        1,
	FairBulkServices:    20,
	FairRegularServices: 2,
	FairRegularInterval: 100 * time.Millisecond,
	DNSServices:         20,
	DNSRounds:           1,
	DNSDuration:         time.Second,
	DNSAnswerTimeout:    3 * time.Second,
	PublishGateways:     3,
	PublishRate:         5,
}

// Services is the number of Services the makespan and the restart work with.
func (s Scale) Services() int { return s.MCPs * s.ServicesPerMCP }
