/** One part of a time split: its days, and the first and last of them. */
export interface SplitPart {
  from: string;
  to: string;
  days: string[];
}

export interface TimeSplit {
  train: SplitPart;
  validation: SplitPart;
  test: SplitPart;
}

export interface SplitFractions {
  train: number;
  validation: number;
  test: number;
}

/**
 * Splits the window's days (distinct, ascending) into train, then validation, then test days:
 * contiguous, in time order, no overlap, no gap, so the model is always judged on days after
 * those it learned from.
 *
 * Rounding: validation and test each get floor(fraction x days) days, but at least 1; train gets
 * the rest, so train never gets fewer days than its share. If the minimums leave train with
 * nothing (tiny windows with lopsided fractions), the larger of validation and test gives up a day
 * until train has one.
 */
export function splitDays(days: string[], fractions: SplitFractions): TimeSplit {
  const n = days.length;
  if (n < 3)
    throw new RangeError(`a time split needs at least 3 days (one each for train, validation and test), got ${n}`);
  for (let i = 1; i < n; i++) {
    if (!(days[i - 1]! < days[i]!))
      throw new RangeError(`days must be distinct and ascending: ${days[i - 1]} then ${days[i]}`);
  }
  for (const [name, share] of Object.entries(fractions)) {
    if (!(share > 0 && share < 1)) throw new RangeError(`split fraction ${name} must be between 0 and 1, got ${share}`);
  }
  let validation = Math.max(1, floorShare(fractions.validation, n));
  let test = Math.max(1, floorShare(fractions.test, n));
  while (n - validation - test < 1) {
    if (validation >= test) validation--;
    else test--;
  }
  const trainEnd = n - validation - test;
  const validationEnd = trainEnd + validation;
  return {
    train: part(days.slice(0, trainEnd)),
    validation: part(days.slice(trainEnd, validationEnd)),
    test: part(days.slice(validationEnd)),
  };
}

/** floor(share x n), tolerating products like 0.29 x 100 = 28.999999999999996 that are whole numbers on paper. */
function floorShare(share: number, n: number): number {
  return Math.floor(share * n + 1e-9);
}

function part(days: string[]): SplitPart {
  return { from: days[0]!, to: days[days.length - 1]!, days };
}
