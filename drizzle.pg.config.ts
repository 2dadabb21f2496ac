import { defineConfig } from 'drizzle-kit'

// The PostgreSQL ledger's migrations (DATABASE_URL=postgres://…): `npx drizzle-kit generate --config drizzle.pg.config.ts`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/adapters/ledger/postgres/schema.ts',
  out: './migrations-pg',
})
