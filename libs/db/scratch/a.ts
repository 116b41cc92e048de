import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../src/generated/client.ts';
let t = Date.now();
const pg = new PGlite({ dataDir: 'memory://' });
await pg.waitReady;
console.log('pglite ready', Date.now() - t); t = Date.now();
await pg.exec(readFileSync('prisma/migrations/20261123000000_init/migration.sql', 'utf8'));
console.log('migrated', Date.now() - t); t = Date.now();
const prisma = new PrismaClient({ adapter: new PrismaPGlite(pg) });
await pg.listen('lmsweep_changes', (p) => console.log('NOTIFY', p));
await prisma.sweep.create({ data: { id: 's1', name: 'x', spec: {}, specText: '' } });
console.log('prisma first', Date.now() - t); t = Date.now();
await prisma.trial.create({ data: { id: 't1', sweepId: 's1', ordinal: 0, configKey: 'k', config: {}, method: 'dense', seed: 0 } });
try { await prisma.trialMetric.createMany({ data: [{ trialId: 't1', attempt: 1, step: 0, epoch: 0, name: 'loss', value: NaN }] }); console.log('NaN via prisma ok'); } catch (e) { console.log('NaN prisma fail', (e as Error).message.slice(0, 300)); }
try { await prisma.trialMetric.createMany({ data: [{ trialId: 't1', attempt: 1, step: 1, epoch: 0, name: 'loss', value: Infinity }] }); console.log('Inf via prisma ok'); } catch (e) { console.log('Inf prisma fail', (e as Error).message.slice(0, 300)); }
const r = await prisma.$queryRaw`SELECT pg_notify('lmsweep_changes', 'hello')::text AS n`;
console.log('void text', r);
const r2 = await prisma.$queryRaw`WITH u AS (UPDATE "Trial" SET progress = 0.5 WHERE id = ${'t1'} RETURNING id, "sweepId") SELECT u.id FROM u CROSS JOIN LATERAL (SELECT pg_notify('lmsweep_changes', u.id)) n`;
console.log('lateral', r2);
await prisma.$executeRaw`INSERT INTO "TrialMetric" ("trialId", attempt, step, epoch, name, value) VALUES ('t1', 1, 5, 0, 'x', 'NaN'::float8), ('t1', 1, 6, 0, 'x', '-Infinity'::float8)`;
console.log(await prisma.trialMetric.findMany());
const d = new Date('2026-01-01T05:00:00.000Z');
const r3 = await prisma.$queryRaw`SELECT ${d}::timestamp(3) AS a, ${d.toISOString()}::timestamp(3) AS b, now() as c`;
console.log(r3);
await prisma.$disconnect(); await pg.close();
