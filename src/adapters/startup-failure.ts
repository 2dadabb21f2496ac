/**
 * An expected failure when paybridge or a command starts: the operator fixes it by changing one
 * variable or freeing one resource. main.ts prints its message as one line and exits 2, no stack.
 */
export class StartupFailure extends Error {
  override name = 'StartupFailure'
  constructor(
    readonly variable: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${variable}: ${problem}; ${fix}`)
  }
}

const LEDGER_FILE_CODES = new Set(['SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM', 'SQLITE_NOTADB'])
const PATH_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EEXIST'])

/**
 * The named failure behind an error thrown while starting, when it is one of the known ones (the
 * ledger file cannot be opened or created, the HTTP port cannot be bound); undefined for the rest,
 * which are bugs or outages and keep their stack.
 */
export function startupFailureOf(
  err: unknown,
  config: { port: number; host: string; databasePath: string; databaseUrl: string | undefined },
): StartupFailure | undefined {
  if (err instanceof StartupFailure) return err
  if (!(err instanceof Error)) return undefined
  const { code, syscall, path } = err as Error & { code?: string; syscall?: string; path?: string }
  if (code === 'EADDRINUSE' || (syscall === 'listen' && code === 'EACCES')) {
    return new StartupFailure(
      'PORT',
      code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.host} is in use (another paybridge?)`
        : `port ${config.port} needs privileges to listen on`,
      'stop what holds it, or set PORT to a free port',
    )
  }
  // At start a busy ledger has already been waited for (5 s at open): something holds it for good.
  if (!config.databaseUrl && code && /^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return new StartupFailure(
      'DATABASE_PATH',
      `the ledger file ${config.databasePath} is locked by another process (${code}: ${err.message.replace(`${code}: `, '')})`,
      'stop what holds it (a tool with the file open in exclusive locking mode, or a stuck paybridge), then start again',
    )
  }
  const onLedgerPath =
    path === undefined || config.databasePath.startsWith(path) || path.startsWith(config.databasePath)
  if (
    !config.databaseUrl &&
    code &&
    (LEDGER_FILE_CODES.has(code) || (PATH_CODES.has(code) && onLedgerPath))
  ) {
    return new StartupFailure(
      'DATABASE_PATH',
      `cannot open the ledger file ${config.databasePath} (${code}: ${err.message.replace(`${code}: `, '')})`,
      'point DATABASE_PATH at a file in a folder paybridge may write (it creates the file and the folder)',
    )
  }
  return undefined
}
