// Command kubectl is the upstream kubectl, built from the pinned k8s.io/kubernetes
// release by hack/build-tool.sh, for the demo's ready-to-paste commands.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() {
	cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand())
}
