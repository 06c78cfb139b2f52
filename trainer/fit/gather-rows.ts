/** The given rows of a row-major matrix of `dim` columns, in the order given (a row may repeat). */
export function gatherRows(rows: Float32Array, indexes: readonly number[], dim: number): Float32Array {
  const out = new Float32Array(indexes.length * dim);
  indexes.forEach((r, k) => out.set(rows.subarray(r * dim, (r + 1) * dim), k * dim));
  return out;
}
