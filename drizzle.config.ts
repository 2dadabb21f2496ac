import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/adapters/ledger/sqlite/schema.ts',
  out: './migrations',
})
