/**
 * Inverse-frequency class weights, n / (k * count[c]) (Keras's "balanced"): a batch's weighted loss
 * counts every class as if the classes were equally common, and the weights average to 1 over the
 * training set. A class with no examples gets 0.
 */
export function inverseFrequencyWeights(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? labels.length / (present * c) : 0));
}
