// Drives a RequestParser the way a connection does (head, body, next pipelined request) over
// input cut at given offsets, and records what it reports, for the exhaustive parser tests.
import { isH1ServerError } from '../errors.js';
import type { H1ServerError } from '../errors.js';
import type { RequestHead } from '../request-head.js';
import { RequestParser } from '../request-parser.js';
import type { RequestParserLimits } from '../request-parser.js';

export type ParseEvent =
  | { readonly type: 'head'; readonly head: RequestHead }
  | { readonly type: 'body'; readonly text: string }
  | { readonly type: 'end'; readonly trailers: string[] | null };

export interface ParseRun {
  /** Events with adjacent body chunks merged (chunk boundaries depend on the cuts). */
  readonly events: ParseEvent[];
  readonly error: H1ServerError | undefined;
  /** Every body chunk was a view of the input's memory (no copy). */
  readonly zeroCopy: boolean;
}

/** Parses `input` delivered in pieces cut at the ascending offsets `cuts`. */
export function parseInPieces(
  input: Buffer,
  cuts: readonly number[],
  limits?: RequestParserLimits,
): ParseRun {
  const events: ParseEvent[] = [];
  let zeroCopy = true;
  const sink = {
    onBody(chunk: Buffer): void {
      if (chunk.buffer !== input.buffer) zeroCopy = false;
      const last = events[events.length - 1];
      const text = chunk.toString('latin1');
      if (last?.type === 'body')
        events[events.length - 1] = { type: 'body', text: last.text + text };
      else events.push({ type: 'body', text });
    },
    onEnd(trailers: string[] | null): void {
      events.push({ type: 'end', trailers });
    },
  };
  const parser = new RequestParser(sink, limits);
  const bounds = [0, ...cuts, input.length];
  try {
    for (let k = 0; k + 1 < bounds.length; k++) {
      const piece = input.subarray(bounds[k], bounds[k + 1]);
      let i = 0;
      while (i < piece.length) {
        i = parser.execute(piece, i);
        const head = parser.takeHead();
        if (head !== null) events.push({ type: 'head', head });
        if (parser.complete) parser.reset();
      }
    }
  } catch (error) {
    if (!isH1ServerError(error)) throw error;
    return { events, error, zeroCopy };
  }
  return { events, error: undefined, zeroCopy };
}

/** Every way the tests cut an input: whole, at each offset (sampled when long), byte by byte. */
export function cutsOf(length: number): number[][] {
  const all: number[][] = [[]];
  const step = length > 2_000 ? Math.ceil(length / 500) : 1;
  for (let k = 1; k < length; k += step) all.push([k]);
  all.push(Array.from({ length: Math.max(0, length - 1) }, (_, k) => k + 1));
  return all;
}
