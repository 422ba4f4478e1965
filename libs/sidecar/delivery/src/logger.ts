// The logging calls the delivery client makes. Same shape as the sidecar's Logger (pino's logger
// satisfies it); the default writes one JSON line per event to the console.

export interface DeliveryLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

function line(level: string, fields: object, message: string): string {
  return JSON.stringify({ level, component: 'sidecar-delivery', msg: message, ...fields });
}

export const consoleLogger: DeliveryLogger = {
  info: (fields, message) => console.info(line('info', fields, message)),
  warn: (fields, message) => console.warn(line('warn', fields, message)),
  error: (fields, message) => console.error(line('error', fields, message)),
};
