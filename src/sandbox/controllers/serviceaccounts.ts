/** The ServiceAccounts controller (K pkg/controller/serviceaccount): a `default` ServiceAccount in every namespace. */
import type { ClusterStore, KubeObject } from '../types.js';
import type { LifecycleControllerOptions } from './lifecycle.js';
import { NamespaceObjectController } from './namespace-object.js';

export class ServiceAccountsController extends NamespaceObjectController {
  constructor(store: ClusterStore, opts: LifecycleControllerOptions = {}) {
    super(store, 'serviceaccounts', 'default', opts);
  }

  protected object(): KubeObject {
    return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } };
  }
}
