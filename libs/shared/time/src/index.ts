// @trellis/time: the injectable clock shared by every time-dependent policy.
export type { Clock, Timer } from './clock.js';
export { systemClock } from './clock.js';
export { FakeClock } from './fake-clock.js';
