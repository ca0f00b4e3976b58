#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the modules pinned in this
# folder's go.mod files into a cache outside the repository, and prints that
# bin directory as its last line. Does nothing when they are already there.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
kube_version="$(sed -n 's/^\tk8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$here/go.mod")"
etcd_version="$(sed -n 's/^require go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\)$/\1/p' "$here/etcd/go.mod")"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/kubevirt-gateway/kube/$kube_version-etcd-$etcd_version"
bin="$cache/bin"

if [[ -x "$bin/kube-apiserver" && -x "$bin/kubectl" && -x "$bin/etcd" ]]; then
    echo "$bin"
    exit 0
fi
# this project's machines keep Go in /usr/local/go, which a fresh shell may not have on PATH
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
    echo "make apiserver: Go is not on PATH; install Go 1.26 or newer (on this project's machines it is at /usr/local/go/bin)" >&2
    exit 1
fi

minor="${kube_version#v1.}"; minor="${minor%%.*}"
stamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for package in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $package.gitVersion=$kube_version -X $package.gitMajor=1 -X $package.gitMinor=$minor"
    ldflags+=" -X $package.gitTreeState=clean -X $package.buildDate=$stamp"
done

mkdir -p "$bin.partial"
build() {  # build FOLDER PACKAGE NAME MODULE
    local folder="$1" package="$2" name="$3" module="$4"
    echo "make apiserver: building $name from $module (a first build takes minutes)" >&2
    if ! (cd "$folder" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$bin.partial/$name" "$package"); then
        echo "make apiserver: building $name from $module failed; fix the cause above and run 'make apiserver' again (what was built is kept in the Go build cache)" >&2
        exit 1
    fi
}
build "$here" ./cmd/kube-apiserver kube-apiserver "k8s.io/kubernetes $kube_version"
build "$here" ./cmd/kubectl kubectl "k8s.io/kubectl ${kube_version/v1./v0.}"
build "$here/etcd" . etcd "go.etcd.io/etcd/server/v3 $etcd_version"
rm -rf "$bin"
mv "$bin.partial" "$bin"
echo "$bin"
