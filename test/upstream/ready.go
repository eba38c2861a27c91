package main

// Waiting for the API, and the objects the node agent needs once it is up.

import (
	"context"
	"fmt"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

const startTimeout = 3 * time.Minute // generous: a loaded 2-core machine

// awaitAPI polls /readyz until it answers ok and returns the server's version.
func awaitAPI(ctx context.Context, c *kubernetes.Clientset) (string, error) {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, startTimeout, true, func(ctx context.Context) (bool, error) {
		body, err := c.Discovery().RESTClient().Get().AbsPath("/readyz").Param("verbose", "1").DoRaw(ctx)
		if err == nil {
			return true, nil
		}
		last = err.Error()
		if len(body) > 0 {
			last = failingChecks(string(body))
		}
		return false, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("kube-apiserver not ready after %v: %s", startTimeout, last)
	}
	v, err := c.Discovery().ServerVersion()
	if err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

// failingChecks keeps the "[-]" lines of a verbose /readyz answer.
func failingChecks(body string) string {
	var failing []string
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "[-]") {
			failing = append(failing, strings.TrimSpace(line))
		}
	}
	return strings.Join(failing, "; ")
}

// afterAPIReady lets the node identity read Services and EndpointSlices
// cluster-wide, as kube-proxy does (the node agent is also the Service proxy),
// and waits for the controller manager to create the default ServiceAccount,
// without which no pod can be admitted in the default namespace.
func afterAPIReady(ctx context.Context, c *kubernetes.Clientset) error {
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bodywork:node-proxier"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:node-proxier"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:nodes"}},
	}
	_, err := c.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("node-proxier binding: %w", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, startTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("no default ServiceAccount after %v: is kube-controller-manager running?", startTimeout)
	}
	return err
}
