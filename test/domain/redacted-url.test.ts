import { describe, expect, it } from 'bun:test'
import { redactUrl, redactUrlsIn } from '../../src/domain/redacted-url.ts'

describe('URLs in logs', () => {
  it('masks the user info of a URL and keeps the host and path', () => {
    expect(redactUrl('https://user:pass@host/')).toBe('https://***@host/')
    expect(redactUrl('postgres://paybridge:s3cr%40t@db.internal:5432/ledger')).toBe(
      'postgres://***@db.internal:5432/ledger',
    )
    expect(redactUrl('http://token-only@127.0.0.1:9100')).toBe('http://***@127.0.0.1:9100')
  })

  it('masks the values of token-like query parameters and keeps the others', () => {
    expect(redactUrl('https://hooks.example/in?token=abc&page=2&api_key=k#top')).toBe(
      'https://hooks.example/in?token=***&page=2&api_key=***#top',
    )
    expect(redactUrl('https://s3.example/o?X-Amz-Signature=ff&X-Amz-Credential=AK&v=1')).toBe(
      'https://s3.example/o?X-Amz-Signature=***&X-Amz-Credential=***&v=1',
    )
  })

  it('leaves URLs without credentials exactly as they were', () => {
    for (const url of [
      'http://127.0.0.1:3000',
      'https://sqs.us-east-1.amazonaws.com/1/q.fifo',
      'http://h/p?x=1',
    ])
      expect(redactUrl(url)).toBe(url)
  })

  it('redacts every URL inside free text, such as an error message', () => {
    expect(
      redactUrlsIn('connect ECONNREFUSED postgres://u:p@db:5432/x; retry via "http://a:b@proxy:8080/"'),
    ).toBe('connect ECONNREFUSED postgres://***@db:5432/x; retry via "http://***@proxy:8080/"')
    expect(redactUrlsIn('no urls here, user:pass@host')).toBe('no urls here, user:pass@host')
  })
})
