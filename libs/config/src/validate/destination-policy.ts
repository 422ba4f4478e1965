// Semantic checks of one DestinationPolicy document.
import { parseDuration } from '../duration.js';
import type { DestinationPolicyResource } from '../schema/destination-policy.js';
import type { IssueSink } from './issue-sink.js';

export function checkDestinationPolicy(policy: DestinationPolicyResource, sink: IssueSink): void {
  const { loadBalancer, outlierDetection, failureAccrual } = policy.spec;
  if (loadBalancer.algorithm === 'consistent-hash' && loadBalancer.hashHeader === undefined) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      ['spec', 'loadBalancer', 'hashHeader'],
      'is required when algorithm is consistent-hash',
    );
  }
  if (loadBalancer.algorithm !== 'consistent-hash' && loadBalancer.hashHeader !== undefined) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      ['spec', 'loadBalancer', 'hashHeader'],
      `is only allowed when algorithm is consistent-hash (got ${loadBalancer.algorithm})`,
    );
  }
  if (
    outlierDetection !== undefined &&
    parseDuration(outlierDetection.maxEjectionTime) <
      parseDuration(outlierDetection.baseEjectionTime)
  ) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      ['spec', 'outlierDetection', 'maxEjectionTime'],
      `must be ≥ baseEjectionTime (${outlierDetection.baseEjectionTime}) (got ${outlierDetection.maxEjectionTime})`,
    );
  }
  if (
    failureAccrual !== undefined &&
    parseDuration(failureAccrual.maxPenalty) < parseDuration(failureAccrual.minPenalty)
  ) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      ['spec', 'failureAccrual', 'maxPenalty'],
      `must be ≥ minPenalty (${failureAccrual.minPenalty}) (got ${failureAccrual.maxPenalty})`,
    );
  }
}
