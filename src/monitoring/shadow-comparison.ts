import { auc } from '../ml/metrics';

/** Production against a staged candidate that scored the same served rows in shadow. */
export interface ShadowComparison {
  version: number;
  rows: number;
  /** Share of rows both call the same (positive or not) at the production model's threshold. */
  agreement: number;
  /** Mean shadow score minus mean production score. */
  meanShift: number;
  maxAbsDifference: number;
  /** On the rows whose label has arrived; AUC only when both classes are among them. */
  labelled: number;
  auc?: { production: number; shadow: number };
}

export interface ServedScore {
  score: number;
  shadow?: { version: number; score: number };
  label: 0 | 1 | null;
}

/** One comparison per shadow version that scored any of the rows, in version order. */
export function compareShadow(rows: readonly ServedScore[], threshold: number): ShadowComparison[] {
  const byVersion = new Map<number, { score: number; shadow: number; label: 0 | 1 | null }[]>();
  for (const r of rows) {
    if (!r.shadow) continue;
    const list = byVersion.get(r.shadow.version) ?? [];
    list.push({ score: r.score, shadow: r.shadow.score, label: r.label });
    byVersion.set(r.shadow.version, list);
  }
  return [...byVersion.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, pairs]) => {
      const agree = pairs.filter((p) => p.score >= threshold === p.shadow >= threshold).length;
      const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
      const labelled = pairs.filter((p) => p.label !== null);
      const y = Uint8Array.from(labelled, (p) => p.label!);
      const bothClasses = y.includes(0) && y.includes(1);
      return {
        version,
        rows: pairs.length,
        agreement: agree / pairs.length,
        meanShift: mean(pairs.map((p) => p.shadow)) - mean(pairs.map((p) => p.score)),
        maxAbsDifference: Math.max(...pairs.map((p) => Math.abs(p.shadow - p.score))),
        labelled: labelled.length,
        ...(bothClasses
          ? {
              auc: {
                production: auc(
                  y,
                  Float64Array.from(labelled, (p) => p.score),
                ),
                shadow: auc(
                  y,
                  Float64Array.from(labelled, (p) => p.shadow),
                ),
              },
            }
          : {}),
      };
    });
}
