// The runtime form of a route: plain frozen data plus compiled predicates and regexes, built
// once per config version. Durations are milliseconds.
import type { Protocol, RetryOn } from '@trellis/config';
import type { MatchPredicate } from './match.js';

/** One port of one service: the unit the proxy balances over (a "cluster"). */
export interface ServicePortRef {
  /** `name.namespace:port`, unique in the mesh. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
  /** Port the endpoints listen on. */
  readonly targetPort: number;
  readonly protocol: Protocol;
}

export interface WeightedDestination {
  readonly target: ServicePortRef;
  readonly weight: number;
}

export interface PathRewrite {
  /** Replace this matched prefix … */
  readonly prefix?: { readonly from: string; readonly to: string };
  /** … or substitute by regex (global), `$1` etc. referring to groups. */
  readonly regex?: { readonly pattern: RegExp; readonly substitution: string };
}

export interface ForwardAction {
  readonly kind: 'forward';
  readonly destinations: readonly WeightedDestination[];
  readonly totalWeight: number;
  readonly pathRewrite: PathRewrite | undefined;
  readonly hostRewrite: string | undefined;
}

export interface RedirectAction {
  readonly kind: 'redirect';
  readonly status: number;
  readonly scheme: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly path: string | undefined;
  readonly prefix: { readonly from: string; readonly to: string } | undefined;
  readonly stripQuery: boolean;
}

export interface DirectResponseAction {
  readonly kind: 'direct-response';
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

export type RouteAction = ForwardAction | RedirectAction | DirectResponseAction;

export interface RetrySettings {
  readonly attempts: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly retryOn: ReadonlySet<RetryOn>;
  readonly retriableStatusCodes: ReadonlySet<number>;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly retryNonIdempotent: boolean;
}

export interface FaultSettings {
  readonly delay: { readonly percent: number; readonly ms: number } | undefined;
  readonly abort:
    | {
        readonly percent: number;
        readonly httpStatus: number | undefined;
        readonly grpcStatus: number | undefined;
      }
    | undefined;
}

export interface HeaderEdits {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

export interface CompiledRoute {
  /** `route/<name>.<namespace>`, or `service/<name>.<namespace>:<port>` for the implicit route of a service. */
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  /** True for the default route every service port gets when no Route matches. */
  readonly implicit: boolean;
  /** Only requests to this port match (from the route host's `:port`), or any port. */
  readonly port: number | undefined;
  readonly test: MatchPredicate;
  readonly precedence: readonly number[];
  readonly action: RouteAction;
  readonly timeoutMs: number | undefined;
  readonly retries: RetrySettings | undefined;
  readonly fault: FaultSettings | undefined;
  readonly requestHeaders: HeaderEdits | undefined;
  readonly responseHeaders: HeaderEdits | undefined;
  readonly mirror: { readonly target: ServicePortRef; readonly percent: number } | undefined;
}
