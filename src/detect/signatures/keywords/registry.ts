/** Every supported rule keyword, by name. Adding a keyword: an entry in a family file plus one line here. */
import { APP_LAYER_KEYWORDS } from './app-layer.js';
import { BUFFER_KEYWORDS } from './buffers.js';
import { BYTE_KEYWORDS } from './bytes.js';
import type { KeywordDef } from './common.js';
import { CONTENT_KEYWORDS } from './content.js';
import { FILE_KEYWORDS } from './file.js';
import { FLOW_KEYWORDS } from './flow.js';
import { INTEL_KEYWORDS } from './intel.js';
import { META_KEYWORDS } from './meta.js';
import { ML_KEYWORDS } from './ml.js';
import { PACKET_KEYWORDS } from './packet.js';
import { PCRE_KEYWORDS } from './pcre.js';
import { THRESHOLD_KEYWORDS } from './threshold.js';

const FAMILIES: KeywordDef[][] = [
  META_KEYWORDS,
  CONTENT_KEYWORDS,
  BUFFER_KEYWORDS,
  PCRE_KEYWORDS,
  FLOW_KEYWORDS,
  PACKET_KEYWORDS,
  BYTE_KEYWORDS,
  THRESHOLD_KEYWORDS,
  APP_LAYER_KEYWORDS,
  INTEL_KEYWORDS,
  ML_KEYWORDS,
  FILE_KEYWORDS,
];

/** Keyword name -> definition. */
export const KEYWORDS: ReadonlyMap<string, KeywordDef> = new Map(FAMILIES.flat().map((k) => [k.name, k]));

// Two families defining one name would silently shadow each other: fail at load, in every test.
if (KEYWORDS.size !== FAMILIES.flat().length) {
  const seen = new Set<string>();
  const dup = FAMILIES.flat().find((k) => seen.size === seen.add(k.name).size);
  throw new Error(`keyword ${dup?.name ?? '?'} is defined twice`);
}
