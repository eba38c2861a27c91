// Command upstream-control-plane runs an upstream Kubernetes control plane
// (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) in one
// process, for tests that check the action against real Kubernetes.
//
//	upstream-control-plane --data-dir DIR --kubeconfig FILE [--node-name sandbox] [--node-ip 127.0.0.1] [--port 0]
//
// Once the API is ready it prints one line to stdout, `ready {json}`; all
// else goes to stderr, component logs to DIR/control-plane.log and DIR/etcd.log.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

type opts struct {
	dataDir, kubeconfig, nodeName, nodeIP string
	port                                  int
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "upstream-control-plane: "+format+"\n", args...)
}

func main() {
	if err := run(); err != nil {
		say("%v", err)
		os.Exit(1)
	}
}

func parseOpts() (opts, error) {
	var o opts
	fs := flag.NewFlagSet("upstream-control-plane", flag.ContinueOnError)
	fs.StringVar(&o.dataDir, "data-dir", "", "directory for etcd data, certificates, kubeconfigs and logs (created 0700)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "where to write the admin kubeconfig")
	fs.StringVar(&o.nodeName, "node-name", "sandbox", "the node agent's node name (its client and serving certificates)")
	fs.StringVar(&o.nodeIP, "node-ip", "127.0.0.1", "the node's InternalIP (a SAN of its serving certificate)")
	fs.IntVar(&o.port, "port", 0, "the API server's port on 127.0.0.1 (0: any free port)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return o, err
	}
	if o.dataDir == "" || o.kubeconfig == "" {
		return o, errors.New("--data-dir and --kubeconfig are required")
	}
	if net.ParseIP(o.nodeIP) == nil {
		return o, fmt.Errorf("--node-ip %q is not an IP address", o.nodeIP)
	}
	var err error
	if o.dataDir, err = filepath.Abs(o.dataDir); err != nil {
		return o, err
	}
	o.kubeconfig, err = filepath.Abs(o.kubeconfig)
	return o, err
}

// logTo sends every klog line of the three Kubernetes components to a file,
// once (one_output: an error is not repeated as a warning and an info line);
// only fatal ones also reach stderr.
func logTo(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for k, v := range map[string]string{"logtostderr": "false", "one_output": "true", "stderrthreshold": "FATAL", "v": "1"} {
		if err := fs.Set(k, v); err != nil {
			return nil, err
		}
	}
	klog.SetOutput(f)
	return f, nil
}

func run() error {
	o, err := parseOpts()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// A test runner that dies without stopping us must not leave a control
	// plane behind: its death sends us SIGTERM.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		return err
	}

	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(o.dataDir, 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.kubeconfig), 0o700); err != nil {
		return err
	}
	logFile, err := logTo(filepath.Join(o.dataDir, "control-plane.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	defer klog.Flush()

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)))
	if err != nil {
		return fmt.Errorf("kube-apiserver port: %w", err)
	}
	defer ln.Close() // the API server closes it when it stops; this is for early returns
	server := "https://" + ln.Addr().String()
	p, err := newPKI(o.dataDir)
	if err != nil {
		return err
	}
	if err := p.writeAll(o, server); err != nil {
		return err
	}

	etcd, etcdURL, err := startEtcd(o.dataDir)
	if err != nil {
		return err
	}
	defer etcd.Close()

	// All options are made before any flag set: adding the flags closes the
	// shared feature gate to further registrations.
	apiOpts := apiserveroptions.NewServerRunOptions()
	kcmOpts, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return err
	}
	schedOpts := scheduleroptions.NewOptions()
	api, err := apiServer(apiOpts, apiServerArgs(p, o, etcdURL), ln)
	if err != nil {
		return err
	}
	kcm, err := controllerManager(kcmOpts, controllerManagerArgs(p))
	if err != nil {
		return err
	}
	sched, err := scheduler(schedOpts, schedulerArgs(p))
	if err != nil {
		return err
	}

	g := newGroup(ctx)
	go func() {
		if err, ok := <-etcd.Err(); ok && err != nil {
			g.fail(fmt.Errorf("etcd: %w", err))
		}
	}()
	g.start(api)
	admin, err := clientFor(o.kubeconfig)
	if err != nil {
		return g.stop(err)
	}
	version, err := awaitAPI(g.ctx, admin)
	if err != nil {
		return g.stop(err)
	}
	g.start(kcm)
	g.start(sched)
	if err := afterAPIReady(g.ctx, admin); err != nil {
		return g.stop(err)
	}

	line, _ := json.Marshal(map[string]string{"kubeconfig": o.kubeconfig, "dataDir": o.dataDir, "server": server, "version": version})
	fmt.Printf("ready %s\n", line)
	say("ready at %s (%s); logs in %s", server, version, o.dataDir)
	<-g.ctx.Done()
	return g.stop(nil)
}

func clientFor(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// group runs the components; the first one to return before a stop is asked
// for fails the whole process.
type group struct {
	ctx    context.Context // cancelled on a signal or on a failure
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	failed error
}

func newGroup(parent context.Context) *group {
	ctx, cancel := context.WithCancel(parent)
	return &group{ctx: ctx, cancel: cancel}
}

func (g *group) fail(err error) {
	g.mu.Lock()
	if g.failed == nil && g.ctx.Err() == nil {
		g.failed = err
	}
	g.mu.Unlock()
	g.cancel()
}

func (g *group) start(c component) {
	g.wg.Go(func() {
		ctx := klog.NewContext(g.ctx, klog.LoggerWithName(klog.Background(), c.name))
		err := c.run(ctx)
		if err == nil {
			err = errors.New("stopped on its own")
		}
		g.fail(fmt.Errorf("%s: %w", c.name, err))
	})
}

// stop cancels every component and waits a little for them to return (the
// process exit ends any that do not). It returns the first component failure,
// else err unless err only says that a signal cancelled the start.
func (g *group) stop(err error) error {
	g.cancel()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		say("components still stopping after 10s; exiting anyway")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failed != nil {
		return g.failed
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
