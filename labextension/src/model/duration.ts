/** ISO 8601 durations (PnW, PnDTnHnMnS: the forms the service accepts) and short human texts for spans. */

const DURATION =
  /^P(?:(\d+(?:[.,]\d+)?)W|(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?)$/;
const UNIT_MS = [7 * 86400e3, 86400e3, 3600e3, 60e3, 1e3];

/** Milliseconds of an ISO 8601 duration, or null when the text is not one. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) {
    return null;
  }
  let total = 0;
  let any = false;
  match.slice(1).forEach((value, index) => {
    if (value !== undefined) {
      any = true;
      total += parseFloat(value.replace(',', '.')) * UNIT_MS[index];
    }
  });
  return any ? total : null;
}

/** "2 d 3 h", "3 h 5 min", "4 min 10 s", "12 s": the two largest units of a span. */
export function formatSpan(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const parts: [number, string][] = [
    [Math.floor(seconds / 86400), 'd'],
    [Math.floor((seconds % 86400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'min'],
    [seconds % 60, 's']
  ];
  const first = parts.findIndex(([value]) => value > 0);
  if (first === -1) {
    return '0 s';
  }
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value} ${unit}`)
    .join(' ');
}
