import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

// The dependency rule, checked: the domain imports only the domain; use cases and ports import no
// adapters and no SDKs; only the composition roots wire adapters together.

const SRC = join(import.meta.dir, '../src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  )
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? '')
}

function violations(layer: string, allowed: (spec: string, file: string) => boolean): string[] {
  return files(join(SRC, layer)).flatMap((file) =>
    imports(file)
      .filter((spec) => !allowed(spec, file))
      .map((spec) => `${relative(SRC, file)} imports ${spec}`),
  )
}

const local = (spec: string) => spec.startsWith('.')
const inside = (spec: string, file: string, folder: string) =>
  local(spec) && join(file, '..', spec).startsWith(join(SRC, folder))

describe('architecture', () => {
  it('keeps the domain pure: it imports only the domain', () => {
    expect(violations('domain', (spec, file) => inside(spec, file, 'domain'))).toEqual([])
  })

  it('keeps ports free of adapters and SDKs', () => {
    expect(
      violations('ports', (spec, file) => inside(spec, file, 'ports') || inside(spec, file, 'domain')),
    ).toEqual([])
  })

  it('keeps use cases free of adapters and SDKs (valibot for validating messages is allowed)', () => {
    const allowed = (spec: string, file: string) =>
      spec === 'valibot' ||
      inside(spec, file, 'app') ||
      inside(spec, file, 'domain') ||
      inside(spec, file, 'ports') ||
      spec.endsWith('/config.ts')
    expect(violations('app', allowed)).toEqual([])
  })

  it('has adapters depend inwards, never on the composition roots or the role modules', () => {
    const roots = ['main.ts', 'paybridge.ts', 'lambda.ts']
    const allowed = (spec: string, file: string) =>
      !roots.some((r) => spec.endsWith(`/${r}`)) && !inside(spec, file, 'roles')
    expect(violations('adapters', allowed)).toEqual([])
  })

  it('keeps the Stark Bank emulator out of the service: only the composition roots import it', () => {
    const notEmulator = (spec: string, file: string) => !inside(spec, file, 'emulator')
    for (const layer of ['domain', 'ports', 'app', 'adapters', 'roles']) {
      expect(violations(layer, notEmulator)).toEqual([])
    }
    expect(imports(join(SRC, 'config.ts')).filter((spec) => spec.includes('emulator'))).toEqual([])
  })
})
