// Command kube-proxy is the upstream kube-proxy, built from the pinned k8s.io/kubernetes
// release by hack/build-tool.sh for the landscape's nodes.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-proxy/app"
)

func main() {
	os.Exit(cli.Run(app.NewProxyCommand()))
}
