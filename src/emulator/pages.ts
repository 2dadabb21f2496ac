// Stark Bank's list paging and filters, over the emulator's in-memory arrays.

export interface PageRequest {
  limit: number
  /** Opaque; from the previous page. */
  cursor: string | null
}

export interface Page<T> {
  items: T[]
  cursor: string | null
}

export class BadCursorError extends Error {
  override name = 'BadCursorError'
}

function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ before: id })).toString('base64url')
}

function decodeCursor(cursor: string): bigint {
  try {
    const before = JSON.parse(Buffer.from(cursor, 'base64url').toString()).before
    return BigInt(before)
  } catch {
    throw new BadCursorError(`invalid cursor ${cursor}`)
  }
}

/** Newest first, like Stark Bank lists; the cursor points below the last id returned. */
export function pageOf<T extends { id: string }>(
  all: T[],
  match: (item: T) => boolean,
  request: PageRequest,
): Page<T> {
  const before = request.cursor ? decodeCursor(request.cursor) : null
  const matching = all
    .filter((item) => (before === null || BigInt(item.id) < before) && match(item))
    .reverse()
  const items = matching.slice(0, request.limit)
  const last = items.at(-1)
  return {
    items: structuredClone(items),
    cursor: matching.length > items.length && last ? encodeCursor(last.id) : null,
  }
}

export function hasTags(tags: string[] | undefined): (item: { tags: string[] }) => boolean {
  // Any of the requested tags matches: clients wanting all of them filter the page themselves.
  return (item) => !tags || tags.length === 0 || tags.some((tag) => item.tags.includes(tag))
}

export function inList(values: string[] | undefined, value: string): boolean {
  return !values || values.length === 0 || values.includes(value)
}
