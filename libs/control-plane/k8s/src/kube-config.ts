// Where the control plane finds its cluster: a kubeconfig file, or the usual places client-go
// looks ($KUBECONFIG, ~/.kube/config, then the in-cluster service account).
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesSourceError } from './errors.js';

export interface KubeConfigOptions {
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or the in-cluster config. */
  readonly file?: string;
  /** A context of that kubeconfig other than its current one. */
  readonly context?: string;
}

export function loadKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (options.file === undefined) kubeConfig.loadFromDefault();
  else kubeConfig.loadFromFile(options.file);
  if (options.context !== undefined) {
    if (kubeConfig.getContextObject(options.context) === null) {
      throw new KubernetesSourceError(
        'TRL_K8S_NO_CLUSTER',
        `the kubeconfig has no context ${JSON.stringify(options.context)} (it has: ${kubeConfig
          .getContexts()
          .map((c) => c.name)
          .join(', ')})`,
      );
    }
    kubeConfig.setCurrentContext(options.context);
  }
  return kubeConfig;
}
