package main

// The flags each component runs with.

import "net"

func apiServerArgs(p *pki, o opts, etcdURL string) []string {
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=" + o.nodeIP,
		"--cert-dir=" + p.dir,
		"--tls-cert-file=" + p.path("apiserver.crt"),
		"--tls-private-key-file=" + p.path("apiserver.key"),
		"--client-ca-file=" + p.path("ca.crt"),
		"--service-account-key-file=" + p.path("sa.pub"),
		"--service-account-signing-key-file=" + p.path("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--authorization-mode=Node,RBAC",
		// Added to the default plugins (ServiceAccount, NamespaceLifecycle,
		// PodSecurity, ... stay on).
		"--enable-admission-plugins=NodeRestriction",
		"--service-cluster-ip-range=10.96.0.0/12", // the embedded sandbox's range
		"--kubelet-client-certificate=" + p.path("apiserver-kubelet-client.crt"),
		"--kubelet-client-key=" + p.path("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority=" + p.path("ca.crt"),
		"--kubelet-preferred-address-types=InternalIP",
		"--profiling=false",
	}
	if net.ParseIP(o.nodeIP).IsLoopback() {
		// EndpointSlices may not hold loopback addresses, so the kubernetes
		// Service gets no endpoints (as in upstream's own test server).
		args = append(args, "--endpoint-reconciler-type=none")
	}
	return args
}

func controllerManagerArgs(p *pki) []string {
	return []string{
		"--kubeconfig=" + p.path("controller-manager.kubeconfig"),
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + p.path("sa.key"),
		"--root-ca-file=" + p.path("ca.crt"),
		"--cluster-signing-cert-file=" + p.path("ca.crt"),
		"--cluster-signing-key-file=" + p.path("ca.key"),
		"--leader-elect=false",
		// With --use-service-account-credentials every controller's client is
		// made by creating its ServiceAccount and requesting a token, about a
		// hundred requests before the first controller starts. The default
		// client-side limit (20 per second) made that four of the control
		// plane's ten seconds of start-up. It only paces this client; the
		// controllers behave the same.
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
		// No HTTPS health server: the fixed default port would clash between
		// instances running side by side; readiness is judged from the API.
		"--secure-port=0",
		// The default set, less node IPAM: pod IPs come from the sandbox's own
		// pod network, not from per-node podCIDRs (there is no --cluster-cidr).
		// The cloud controllers are no longer part of kube-controller-manager.
		"--controllers=*,-node-ipam-controller",
	}
}

func schedulerArgs(p *pki) []string {
	return []string{
		"--kubeconfig=" + p.path("scheduler.kubeconfig"),
		"--leader-elect=false",
		"--secure-port=0", // as for the controller manager
	}
}
