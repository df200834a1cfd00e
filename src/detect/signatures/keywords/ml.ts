/**
 * Model keywords (Vigil's own, docs/rules.md "Model keywords"): conditions on the verdict the
 * models give the rule's flow when it ends, so a rule combines a signature with a model's opinion.
 *
 * - `ml.class:brute_force,dos;` the classifier's predicted class (or its alert type) is one of
 *   these; `ml.class:!benign;` is none of them.
 * - `ml.confidence:>0.8;` the predicted class's probability.
 * - `ml.anomaly_score:>0.9;` the Isolation Forest score (0..1).
 * - `ml.second_opinion;` no condition: the alert waits for the classifier's verdict and its
 *   severity is lowered one step when the model is confident the flow is benign.
 *
 * A rule with any of them alerts when its flow has been scored, not at the matching packet.
 */
import { fail, ok } from './common.js';
import type { KeywordDef, KwResult } from './common.js';

export type MlOp = '>' | '>=' | '<' | '<=' | '=';

export interface MlCompare {
  op: MlOp;
  value: number;
}

export interface MlClassKw {
  negated: boolean;
  classes: string[];
}

/** `>0.9`, `>=0.5`, `<0.1`, `0.5` (equal): a number in [0, 1]. */
function compare(name: string, v: string): KwResult {
  const m = /^(>=|<=|>|<|=)?\s*([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)$/i.exec(v.trim());
  if (m === null) return fail(`${name}: expected an operator and a number, e.g. ${name}:>0.9`);
  const value = Number(m[2]);
  if (!(value >= 0 && value <= 1)) return fail(`${name}: the value must be between 0 and 1, got ${m[2]}`);
  const out: MlCompare = { op: (m[1] ?? '=') as MlOp, value };
  return ok(out);
}

export function mlCompare(c: MlCompare, x: number): boolean {
  switch (c.op) {
    case '>':
      return x > c.value;
    case '>=':
      return x >= c.value;
    case '<':
      return x < c.value;
    case '<=':
      return x <= c.value;
    default:
      return x === c.value;
  }
}

export const ML_KEYWORDS: KeywordDef[] = [
  {
    name: 'ml.class',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      let t = v!.trim();
      const negated = t.startsWith('!');
      if (negated) t = t.slice(1);
      const classes = t
        .split(',')
        .map((c) => c.trim().toLowerCase())
        .filter((c) => c !== '');
      if (classes.length === 0) return fail('ml.class: expected one or more class names, e.g. ml.class:brute_force');
      const bad = classes.find((c) => !/^[a-z0-9_. -]{1,64}$/.test(c));
      if (bad !== undefined) return fail(`ml.class: bad class name "${bad}"`);
      const out: MlClassKw = { negated, classes };
      return ok(out);
    },
  },
  { name: 'ml.confidence', kind: 'standalone', value: 'required', parse: (v) => compare('ml.confidence', v!) },
  { name: 'ml.anomaly_score', kind: 'standalone', value: 'required', parse: (v) => compare('ml.anomaly_score', v!) },
  { name: 'ml.second_opinion', kind: 'standalone', value: 'none', parse: () => ok(true) },
];
