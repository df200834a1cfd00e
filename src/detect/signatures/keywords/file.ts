/** File keywords: `filestore` (store the files of a matching transaction or flow, Suricata's syntax). */
import { fail, ok, splitArgs } from './common.js';
import type { KeywordDef } from './common.js';

/** Value of `filestore[:direction[,scope]]`. */
export interface FilestoreSpec {
  /** `default` = the rule's own direction (both when the rule has none). */
  dir: 'default' | 'request' | 'response' | 'both';
  /** `file` and `tx` store the matching transaction's files; `ssn`/`flow` every file of the flow from then on. */
  scope: 'file' | 'tx' | 'ssn' | 'flow';
}

const DIRS: Record<string, FilestoreSpec['dir']> = {
  request: 'request',
  to_server: 'request',
  response: 'response',
  to_client: 'response',
  both: 'both',
};
const SCOPES = new Set(['file', 'tx', 'ssn', 'flow']);

export const FILE_KEYWORDS: KeywordDef[] = [
  {
    // filestore; filestore:request|response|both|to_server|to_client[,file|tx|ssn|flow]
    name: 'filestore',
    kind: 'standalone',
    value: 'optional',
    parse(v) {
      if (v === null || v === '') return ok({ dir: 'default', scope: 'file' } satisfies FilestoreSpec);
      const a = splitArgs(v.toLowerCase());
      if (a.length > 2) return fail('expected [direction[,scope]]');
      const dir = DIRS[a[0]!];
      if (dir === undefined) return fail(`unknown direction "${a[0]}" (request, response, both)`);
      const scope = a[1] ?? 'file';
      if (!SCOPES.has(scope)) return fail(`unknown scope "${scope}" (file, tx, ssn, flow)`);
      return ok({ dir, scope } as FilestoreSpec);
    },
  },
];
