// etcd, built from go.etcd.io/etcd/server/v3 in a module of its own: its
// dependencies (grpc, otel) need not agree with kube-apiserver's.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
