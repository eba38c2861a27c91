/** Cluster access for the deploy engine: kubeconfig loading, the API client, retries, errors and watches. */
export { loadKubeConfig, kubeconfigSecrets, decodeContent, KubeConfigError, type LoadKubeConfigOptions, type LoadedKubeConfig, type KubeConfigSource } from './kubeconfig.js';
export {
  KubeApiError,
  toKubeApiError,
  isKubeStatus,
  describeTarget,
  type KubeVerb,
  type KubeTarget,
  type KubeErrorCause,
  type KubeApiErrorFields,
  type FailureContext,
  type RequestDelivery,
} from './errors.js';
export { withRetry, shouldRetry, backoffMs, type RetryOptions } from './retry.js';
export {
  KubeClient,
  KNOWN_KINDS,
  resolveKind,
  toModel,
  type KindRef,
  type Manifest,
  type KubeApis,
  type KubeClientOptions,
  type CallOptions,
  type WriteOptions,
  type ApplyOptions,
  type ListOptions,
  type DeleteOptions,
  type ObjectList,
} from './client.js';
export { requestFailure, resendIfStale, StaleConnection } from './connections.js';
export { fromVersion, watchObjects, type WatchArgs, type WatchEvent, type WatchEventType, type WatchObjectsOptions } from './watch.js';
export { waitFor, waitForObject, WaitTimeoutError, type WaitOptions } from './wait.js';
