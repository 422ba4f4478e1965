import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from '@trellis/testing';
import { KubernetesSourceError } from './errors.js';
import { loadKubeConfig } from './kube-config.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: kind-shop
    cluster:
      server: https://127.0.0.1:6443
  - name: staging
    cluster:
      server: https://127.0.0.2:443
users:
  - name: admin
    user:
      token: not-a-real-token
contexts:
  - name: kind-shop
    context: { cluster: kind-shop, user: admin }
  - name: staging
    context: { cluster: staging, user: admin, namespace: shop }
current-context: kind-shop
`;

describe('loadKubeConfig', () => {
  it('reads a kubeconfig file and uses its current context', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'config');
      writeFileSync(file, KUBECONFIG);
      expect(loadKubeConfig({ file }).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    });
  });

  it('switches to another context of the file', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'config');
      writeFileSync(file, KUBECONFIG);
      expect(loadKubeConfig({ file, context: 'staging' }).getCurrentCluster()?.server).toBe(
        'https://127.0.0.2:443',
      );
    });
  });

  it('refuses a context the file does not have', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'config');
      writeFileSync(file, KUBECONFIG);
      expect(() => loadKubeConfig({ file, context: 'prod' })).toThrow(
        new KubernetesSourceError(
          'TRL_K8S_NO_CLUSTER',
          'the kubeconfig has no context "prod" (it has: kind-shop, staging)',
        ),
      );
    });
  });
});
