// Command etcd is the upstream etcd server, built from the pinned go.etcd.io/etcd
// release by hack/build-tool.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
