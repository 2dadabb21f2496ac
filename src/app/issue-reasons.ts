import * as v from 'valibot'

const MAX_MESSAGE = 200

/**
 * The first few validation issues as one reason, each cut to 200 characters: valibot quotes a
 * wrong-typed value in full, and the reason goes into 400 bodies, log lines and dead letters.
 */
export function issueReasons(issues: v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 3)
    .map((i) => {
      const text = `${v.getDotPath(i) ?? '(root)'}: ${i.message}`
      return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text
    })
    .join('; ')
}
