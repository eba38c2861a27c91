#!/usr/bin/env bash
# End-to-end check of the built control plane (about half a minute): starts it,
# exercises it with kubectl, stops it with SIGTERM and checks that it exited 0
# and left no listening port. Usage: test/upstream/check.sh [kubectl]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl=${1:-kubectl}
"$here/build.sh"

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -20 "$work/stderr" >&2 || true; exit 1; }

coproc CP { exec "$here/bin/upstream-control-plane" --data-dir "$work/data" --kubeconfig "$work/kubeconfig" 2>"$work/stderr"; }
pid=$CP_PID
read -r -t 240 word json <&"${CP[0]}" || fail "no ready line"
[[ $word == ready ]] || fail "first stdout line: $word $json"
echo "ready $json"
k() { "$kubectl" --kubeconfig "$work/kubeconfig" "$@"; }
node() { "$kubectl" --kubeconfig "$work/data/node.kubeconfig" "$@"; }

k version 2>&1 | grep -q 'Server Version: v1\.' || fail "kubectl version"
k get --raw '/readyz?verbose' | grep -q 'readyz check passed' || fail readyz
[[ $(node auth can-i list endpointslices.discovery.k8s.io -A) == yes ]] || fail "node cannot list EndpointSlices"
[[ $(node auth can-i watch services -A) == yes ]] || fail "node cannot watch Services"
secrets=$(node auth can-i list secrets -A 2>/dev/null || true)
[[ $secrets == no* ]] || fail "node may list Secrets: $secrets"
k create namespace check >/dev/null
k -n check create deployment web --image=registry.invalid/web:1 >/dev/null
for _ in $(seq 120); do
  k -n check get events --field-selector reason=FailedScheduling -o name 2>/dev/null | grep -q . && break
  sleep 0.5
done
k -n check get replicasets -o name | grep -q replicaset || fail "no ReplicaSet"
[[ $(k -n check get pods -o jsonpath='{.items[0].status.phase}') == Pending ]] || fail "pod not Pending"
k -n check get events --field-selector reason=FailedScheduling -o name | grep -q . || fail "no FailedScheduling event"
k create token default -n default | grep -q '^eyJ' || fail "create token"

ports=$(ss -Hltnp | grep "pid=$pid," | awk '{print $4}')
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 0 ]] || fail "exit code $rc after SIGTERM"
for p in $ports; do
  ! ss -Hltn | awk '{print $4}' | grep -qx "$p" || fail "port $p still open"
done
pid=""
echo "OK (ports closed: $(echo $ports))"
