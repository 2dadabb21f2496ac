import * as v from 'valibot'

// The kinds of value variables hold, each with the message that names what is wrong.

export const int = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d+$/, `must be a whole number ≥ ${min}`),
    v.transform(Number),
    v.minValue(min, `must be ≥ ${min}`),
    v.maxValue(max, `must be ≤ ${max}`),
  )
export const share = v.pipe(
  v.string(),
  v.transform(Number),
  v.number('must be a number'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(1, 'must be ≤ 1'),
)
/** `example` is shown in the message: what a good value looks like. */
export const url = (example = 'http://127.0.0.1:9100') =>
  v.pipe(v.string(), v.trim(), v.url(`must be a URL like ${example}`))
export const nonEmpty = v.pipe(v.string(), v.trim(), v.nonEmpty('must not be empty'))
