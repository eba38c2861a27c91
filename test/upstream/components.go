package main

// The control-plane parts, each built from upstream's own options and Run
// functions. The cobra commands (NewAPIServerCommand and friends) are not used:
// each installs its own SIGTERM handler through SetupSignalContext, which
// panics when a second one is installed in the same process, and none of them
// can be stopped by cancelling a context.

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	cliflag "k8s.io/component-base/cli/flag"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	schedulerapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

type component struct {
	name string
	run  func(ctx context.Context) error
}

// parseFlags parses args into an upstream component's flag sets, as its
// command line would.
func parseFlags(name string, sets cliflag.NamedFlagSets, args []string) error {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetNormalizeFunc(cliflag.WordSepNormalizeFunc)
	for _, set := range sets.FlagSets {
		fs.AddFlagSet(set)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s flags: %w", name, err)
	}
	return nil
}

// startEtcd starts a single-member etcd on loopback ports chosen by the
// kernel and returns its client URL once it serves.
func startEtcd(dir string) (*embed.Etcd, string, error) {
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "etcd")
	loopback := []url.URL{{Scheme: "http", Host: "127.0.0.1:0"}}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = loopback, loopback
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = loopback, loopback
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	cfg.LogLevel = "warn"
	// Throwaway data: a write need not survive a crash, so etcd skips fsync
	// (its --unsafe-no-fsync, meant for tests). The API server's bootstrap
	// writes a few hundred RBAC objects one by one at start-up.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, "", fmt.Errorf("etcd: %w", err)
	case <-time.After(2 * time.Minute):
		e.Close()
		return nil, "", fmt.Errorf("etcd: not ready after 2 minutes")
	}
	return e, "http://" + e.Clients[0].Addr().String(), nil
}

func apiServer(s *apiserveroptions.ServerRunOptions, args []string, ln net.Listener) (component, error) {
	if err := parseFlags("kube-apiserver", s.Flags(), args); err != nil {
		return component{}, err
	}
	// Serve on the listener opened before the kubeconfigs were written, so the
	// port they name cannot be taken in between.
	s.SecureServing.Listener = ln
	s.SecureServing.BindPort = ln.Addr().(*net.TCPAddr).Port
	return component{"kube-apiserver", func(ctx context.Context) error {
		if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
			return err
		}
		completed, err := s.Complete(ctx)
		if err != nil {
			return err
		}
		if errs := completed.Validate(); len(errs) != 0 {
			return utilerrors.NewAggregate(errs)
		}
		return apiserverapp.Run(ctx, completed)
	}}, nil
}

func controllerManager(s *kcmoptions.KubeControllerManagerOptions, args []string) (component, error) {
	known, off, aliases := kcmapp.KnownControllers(), kcmapp.ControllersDisabledByDefault(), kcmapp.ControllerAliases()
	sets := s.Flags(known, off, aliases)
	s.ParsedFlags = &sets
	if err := parseFlags("kube-controller-manager", sets, args); err != nil {
		return component{}, err
	}
	return component{"kube-controller-manager", func(ctx context.Context) error {
		if err := s.ComponentGlobalsRegistry.Set(); err != nil {
			return err
		}
		c, err := s.Config(ctx, known, off, aliases)
		if err != nil {
			return err
		}
		return kcmapp.Run(ctx, c.Complete())
	}}, nil
}

func scheduler(o *scheduleroptions.Options, args []string) (component, error) {
	if err := parseFlags("kube-scheduler", *o.Flags, args); err != nil {
		return component{}, err
	}
	return component{"kube-scheduler", func(ctx context.Context) error {
		if err := o.ComponentGlobalsRegistry.Set(); err != nil {
			return err
		}
		cc, sched, err := schedulerapp.Setup(ctx, o)
		if err != nil {
			return err
		}
		return schedulerapp.Run(ctx, cc, sched)
	}}, nil
}
