// What the delivery needs from a logger: pino's object-first calls, so the app passes its pino
// logger and tests pass a recorder. Every line carries an object with at least the facts.

export type LogFn = (fields: object, message: string) => void;

export interface DeliveryLogger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
}
