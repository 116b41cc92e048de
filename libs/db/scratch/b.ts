import { PGlite } from '@electric-sql/pglite';
for (let i = 0; i < 3; i++) {
  let t = Date.now();
  const pg = new PGlite({ dataDir: 'memory://' });
  await pg.waitReady;
  console.log('pglite ready', Date.now() - t); t = Date.now();
  const c = await (pg as any).clone();
  console.log('clone', Date.now() - t); t = Date.now();
  const dump = await pg.dumpDataDir('none');
  console.log('dump', Date.now() - t, dump.size); t = Date.now();
  const p3 = await PGlite.create({ loadDataDir: dump });
  console.log('load', Date.now() - t); t = Date.now();
  await pg.close(); await c.close(); await p3.close();
}
