/** The sandbox API server and its storage: public API. */
export { createClusterStore, RETURNS_DELETED_OBJECT, type ClusterStoreOptions, type SandboxStore } from './registry.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export { newToken } from './auth.js';
export { FaultInjector, seededRandom, type FaultOptions } from './faults.js';
export { WatchHub, type WatchHubOptions, type WatchRequest, type WatchEventType } from './watch.js';
export { RESOURCE_TYPES, keyOf, apiVersionOf } from './resources.js';
export {
  StatusError,
  isStatusError,
  notFound,
  alreadyExists,
  conflict,
  invalid,
  badRequest,
  forbidden,
  namespaceTerminating,
  gone,
  expired,
  methodNotAllowed,
  unsupportedMediaType,
  internalError,
  tooManyRequests,
  serviceUnavailable,
  field,
  type StatusBody,
  type StatusCause,
  type StatusDetails,
  type FieldError,
} from '../machinery/errors.js';
export { parseLabelSelector, labelsMatch, fromLabelSelector, parseFieldSelector } from './selectors.js';
