// A sweep's `reference:`: a published table (a paper's numbers) that `lmsweep report` prints beside
// the sweep's own results. Each row names the configurations it stands beside by method and, if
// need be, by config fields (dotted trial-config paths); nothing here changes what runs.
//   reference:
//     source: Chen et al., NeurIPS 2018, Table 3 (PTB-small, embedding and softmax)
//     rows:
//       - { label: SVD, method: svd, testPpl: 161.44 }
//       - { label: GroupReduce, method: groupreduce, where: { compress.rate: 5 }, testPpl: 127.26 }
import { z } from 'zod';

const ReferenceRow = z
  .object({
    /** How the source names it. */
    label: z.string().trim().min(1).max(200),
    /** The method of the configurations it stands beside (absent: it stands alone). */
    method: z.string().min(1).max(100).optional(),
    /** Config fields those configurations must have (dotted trial-config paths to values). */
    where: z.record(z.string().min(1).max(200), z.union([z.number(), z.string().max(500), z.boolean()])).optional(),
    params: z.number().int().min(0).optional(),
    validPpl: z.number().min(1).optional(),
    testPpl: z.number().min(1).optional(),
    note: z.string().max(1000).optional(),
  })
  .strict();
export type ReferenceRow = z.infer<typeof ReferenceRow>;

export const ReferenceTable = z
  .object({
    /** Where the numbers come from: paper, table, setting. */
    source: z.string().trim().min(1).max(500),
    rows: z.array(ReferenceRow).min(1).max(200),
  })
  .strict();
export type ReferenceTable = z.infer<typeof ReferenceTable>;
