import { PGlite } from '@electric-sql/pglite';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
const pg = new PGlite({ dataDir: '/tmp/pdeploy/db' });
console.log((await pg.query('select * from _prisma_migrations')).rows);
console.log(createHash('sha256').update(readFileSync('prisma/migrations/20261123000000_init/migration.sql')).digest('hex'));
await pg.close();
