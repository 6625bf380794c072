/** Partitions are whole days of the event time, named YYYY-MM-DD. */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function isPartition(value: string): boolean {
  return (
    DAY.test(value) &&
    !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
    new Date(`${value}T00:00:00Z`).toISOString().startsWith(value)
  );
}

export function addDays(partition: string, days: number): string {
  const d = new Date(`${partition}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Every day from `from` to `to`, both included. */
export function partitionRange(from: string, to: string): string[] {
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  return days;
}

/** Event times are naive timestamps; the online store stamps them as UTC ISO strings. */
export function startOfDayIso(partition: string): string {
  return `${partition}T00:00:00.000Z`;
}
