#!/usr/bin/env bash
# Builds bin/upstream-control-plane (see README.md). Does nothing when the
# binary is newer than go.mod, go.sum, the Go sources and this script.
set -euo pipefail
cd "$(dirname "$0")"
out=bin/upstream-control-plane
if [[ -x $out && -z $(find go.mod go.sum ./*.go build.sh -newer "$out") ]]; then
  exit 0
fi
command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH

# A plain `go build` reports version v0.0.0-master; stamp the pinned release
# the way upstream's hack/lib/version.sh does.
version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
major=${version#v} minor=${version#v*.}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=${major%%.*} -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
done

mkdir -p bin
tmp=$out.$$.tmp # parallel builds must not see each other's half-written binary
trap 'rm -f "$tmp"' EXIT
nice -n 10 go build -ldflags "-s -w$stamp" -o "$tmp" .
mv "$tmp" "$out"
