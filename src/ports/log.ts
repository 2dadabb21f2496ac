export type Fields = Record<string, string | number | boolean | null | undefined>

/** Structured logging: a message and the ids it concerns, so grepping an id tells one story. */
export interface Log {
  debug(message: string, fields?: Fields): void
  info(message: string, fields?: Fields): void
  warn(message: string, fields?: Fields): void
  error(message: string, fields?: Fields): void
  child(fields: Fields): Log
}
