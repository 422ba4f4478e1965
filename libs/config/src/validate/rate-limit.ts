// Semantic checks of one RateLimit document.
import type { RateLimitResource } from '../schema/rate-limit.js';
import type { IssueSink } from './issue-sink.js';
import { exactlyOne } from './rules.js';

export function checkRateLimit(limit: RateLimitResource, sink: IssueSink): void {
  exactlyOne(sink, ['spec'], limit.spec, ['service', 'route']);
}
