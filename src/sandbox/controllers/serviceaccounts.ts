/** The ServiceAccounts controller (K pkg/controller/serviceaccount): a `default` ServiceAccount in every namespace. */
import type { ClusterStore, KubeObject } from '../types.js';
import type { ControllerBaseOptions } from '../machinery/controller.js';
import { NamespaceObjectController } from './namespace-object.js';

export class ServiceAccountsController extends NamespaceObjectController {
  constructor(store: ClusterStore, opts: ControllerBaseOptions = {}) {
    super(store, 'serviceaccount-controller', 'serviceaccounts', 'default', opts);
  }

  protected object(): KubeObject {
    return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } };
  }
}
