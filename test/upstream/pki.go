package main

// The certificates, keys and kubeconfigs of the control plane and of the node
// agent, all written into the data dir.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

type pki struct {
	dir    string
	caCert *x509.Certificate
	caKey  crypto.Signer
	caPEM  []byte
}

// leaf describes one certificate signed by the CA.
type leaf struct {
	name   string // file stem: DIR/<name>.crt, DIR/<name>.key
	cn     string
	orgs   []string
	usage  x509.ExtKeyUsage
	dns    []string
	ips    []net.IP
	pemOut *[2][]byte // cert and key PEM, for kubeconfigs that embed them
}

func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func newPKI(dir string) (*pki, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	ca, err := cert.NewSelfSignedCACert(cert.Config{CommonName: "bodywork-upstream-ca"}, key)
	if err != nil {
		return nil, err
	}
	p := &pki{dir: dir, caCert: ca, caKey: key, caPEM: pem.EncodeToMemory(&pem.Block{Type: cert.CertificateBlockType, Bytes: ca.Raw})}
	if err := p.write("ca", p.caPEM, key); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p *pki) write(name string, certPEM []byte, key crypto.Signer) error {
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return err
	}
	if err := cert.WriteCert(p.path(name+".crt"), certPEM); err != nil {
		return err
	}
	return keyutil.WriteKey(p.path(name+".key"), keyPEM)
}

// issue signs a leaf certificate with the CA. client-go's cert package only
// makes self-signed certificates, so the signing is crypto/x509's.
func (p *pki) issue(l leaf) error {
	key, err := newKey()
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: l.cn, Organization: l.orgs},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{l.usage},
		DNSNames:     l.dns,
		IPAddresses:  l.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		return fmt.Errorf("sign %s: %w", l.name, err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: cert.CertificateBlockType, Bytes: der})
	if err := p.write(l.name, certPEM, key); err != nil {
		return err
	}
	if l.pemOut != nil {
		keyPEM, _ := keyutil.MarshalPrivateKeyToPEM(key)
		*l.pemOut = [2][]byte{certPEM, keyPEM}
	}
	return nil
}

// client issues a client certificate and writes a kubeconfig that embeds it.
func (p *pki) client(name, cn string, orgs []string, server string, kubeconfigs ...string) error {
	var pair [2][]byte
	if err := p.issue(leaf{name: name, cn: cn, orgs: orgs, usage: x509.ExtKeyUsageClientAuth, pemOut: &pair}); err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["upstream"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: p.caPEM}
	cfg.AuthInfos[cn] = &clientcmdapi.AuthInfo{ClientCertificateData: pair[0], ClientKeyData: pair[1]}
	cfg.Contexts["upstream"] = &clientcmdapi.Context{Cluster: "upstream", AuthInfo: cn}
	cfg.CurrentContext = "upstream"
	for _, path := range kubeconfigs {
		if err := clientcmd.WriteToFile(*cfg, path); err != nil { // mode 0600
			return err
		}
	}
	return nil
}

// serviceAccountKeys writes sa.key (token signing) and sa.pub (verification).
func (p *pki) serviceAccountKeys() error {
	key, err := newKey()
	if err != nil {
		return err
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	if err := keyutil.WriteKey(p.path("sa.key"), keyPEM); err != nil {
		return err
	}
	return os.WriteFile(p.path("sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
}

// writeAll generates every file the control plane and the node agent read.
func (p *pki) writeAll(o opts, server string) error {
	loopback := net.IPv4(127, 0, 0, 1)
	nodeIP := net.ParseIP(o.nodeIP)
	serving := []leaf{
		{name: "apiserver", cn: "kube-apiserver", usage: x509.ExtKeyUsageServerAuth,
			dns: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			ips: uniqueIPs(loopback, net.IPv4(10, 96, 0, 1), nodeIP)},
		{name: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}, usage: x509.ExtKeyUsageClientAuth},
		{name: "kubelet-serving", cn: "system:node:" + o.nodeName, orgs: []string{"system:nodes"}, usage: x509.ExtKeyUsageServerAuth,
			dns: []string{"localhost", o.nodeName}, ips: uniqueIPs(nodeIP, loopback)},
	}
	for _, l := range serving {
		if err := p.issue(l); err != nil {
			return err
		}
	}
	clients := []struct {
		name, cn string
		orgs     []string
		files    []string
	}{
		{"admin", "admin", []string{"system:masters"}, []string{p.path("admin.kubeconfig"), o.kubeconfig}},
		{"node", "system:node:" + o.nodeName, []string{"system:nodes"}, []string{p.path("node.kubeconfig")}},
		{"controller-manager", "system:kube-controller-manager", nil, []string{p.path("controller-manager.kubeconfig")}},
		{"scheduler", "system:kube-scheduler", nil, []string{p.path("scheduler.kubeconfig")}},
	}
	for _, c := range clients {
		if err := p.client(c.name, c.cn, c.orgs, server, c.files...); err != nil {
			return err
		}
	}
	return p.serviceAccountKeys()
}

func uniqueIPs(ips ...net.IP) []net.IP {
	var out []net.IP
	for _, ip := range ips {
		dup := ip == nil
		for _, seen := range out {
			dup = dup || seen.Equal(ip)
		}
		if !dup {
			out = append(out, ip)
		}
	}
	return out
}
