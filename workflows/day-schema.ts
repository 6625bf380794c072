import * as z from 'zod/mini';

/** Whether `text` (YYYY-MM-DD) names a day of the calendar: 2001-02-30 has the shape but is none. */
function isCalendarDay(text: string): boolean {
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** A day in workflow inputs: checked when the run starts, not first by the activity that uses it. */
export const day = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a day as YYYY-MM-DD'), z.refine(isCalendarDay, 'not a day of the calendar'));
