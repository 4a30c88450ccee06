package skydns_test

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	networkingv1 "k8s.io/api/networking/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/vcdns/vcdns/syncer/dns/hostname"
	"github.com/vcdns/vcdns/syncer/dns/records"
	"github.com/vcdns/vcdns/syncer/dns/skydns"
)

// Example shows one reconcile of a cluster's published names: read the store, compute
// what the cluster's objects ask for, plan, apply, and report refusals. When the
// cluster cannot be read, skip it: nothing of its names is touched.
func Example() {
	var (
		ctx      = context.Background()
		etcd     *clientv3.Client // connected to the central etcd
		gateways []gatewayv1.Gateway
		routes   []gatewayv1.HTTPRoute
		ings     []networkingv1.Ingress
	)
	if etcd == nil {
		return // the example has no etcd to talk to
	}
	store, err := skydns.NewStore(etcd, skydns.Options{})
	if err != nil {
		panic(err)
	}
	state, err := store.Read(ctx)
	if err != nil {
		panic(err)
	}
	res := records.Compute(records.Input{
		Cluster:    "c1",
		Policy:     hostname.DefaultPolicy("c1", hostname.DefaultBaseDomain),
		Gateways:   gateways,
		HTTPRoutes: routes,
		Ingresses:  ings,
		Claims:     state.Claims(),
	})
	changes := skydns.Plan(state, skydns.Desired{Scope: res.Scope, Endpoints: res.Endpoints})
	if !changes.Empty() {
		if err := store.Apply(ctx, changes); err != nil {
			// With skydns.ErrConflict another writer was faster: requeue, and the next
			// reconcile reads again.
			fmt.Println("requeue:", errors.Is(err, skydns.ErrConflict))
			return
		}
	}
	for _, r := range res.Refusals {
		// A condition and an Event on r.Object.
		fmt.Println(r.Object, r.Reason, r.Message)
	}
}
