/** Minutes since the start of the week for "ddd:hh:mm", or of the day for "hh:mm". */
function minutesOf(time: string): number {
  const days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
  const parts = time.split(":");
  const [day, hours, minutes] = parts.length === 3 ? parts : [undefined, ...parts];
  const dayIndex = day === undefined ? 0 : days.indexOf(day.toLowerCase());
  return dayIndex * 1440 + Number(hours) * 60 + Number(minutes);
}

/**
 * Whether a daily window "hh:mm-hh:mm" meets a weekly window "ddd:hh:mm-ddd:hh:mm"
 * on any day: RDS and ElastiCache refuse backup and maintenance windows that overlap.
 */
export function windowsOverlap(dailyWindow: string, weeklyWindow: string): boolean {
  const [dailyStart, dailyEnd] = dailyWindow.split("-").map(minutesOf);
  const [weeklyStart, rawWeeklyEnd] = weeklyWindow.split("-").map(minutesOf);
  const week = 7 * 1440;
  const weeklyEnd = rawWeeklyEnd <= weeklyStart ? rawWeeklyEnd + week : rawWeeklyEnd;
  const dailyLength = (dailyEnd - dailyStart + 1440) % 1440;
  for (let day = -1; day <= 7; day++) {
    const start = day * 1440 + dailyStart;
    if (start < weeklyEnd && weeklyStart < start + dailyLength) return true;
  }
  return false;
}

/** Whether two daily windows "hh:mm-hh:mm" meet on any day; a window that ends at or before its start runs past midnight. */
export function dailyWindowsOverlap(first: string, second: string): boolean {
  const span = (window: string) => {
    const [start, end] = window.split("-").map(minutesOf);
    return { start, end: end <= start ? end + 1440 : end };
  };
  const a = span(first);
  const b = span(second);
  return [-1440, 0, 1440].some((shift) => a.start + shift < b.end && b.start < a.end + shift);
}
