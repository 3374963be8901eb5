// The size of a row a query returned, for the record limit of SQL sources: the database hands
// over whole rows, so the limit is checked on each row as it arrives (memory holds the row once),
// and a chunk never gathers rows over the limit.

/**
 * About how many bytes `row` holds: strings by their length (UTF-16 units, a byte each for ASCII
 * text), byte arrays by their length, other scalars 8, JSON values (PostgreSQL json columns)
 * summed over their members. Stops counting once past `limit` (iteratively: any depth is fine).
 */
export function rowBytes(row: Record<string, unknown>, limit: number): number {
  let total = 0;
  const stack: unknown[] = [row];
  while (stack.length > 0 && total <= limit) {
    const value = stack.pop();
    if (typeof value === 'string') total += value.length;
    else if (ArrayBuffer.isView(value)) total += value.byteLength;
    else if (Array.isArray(value)) {
      total += 8;
      for (const v of value) stack.push(v);
    } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      for (const [k, v] of Object.entries(value)) {
        total += k.length;
        stack.push(v);
      }
    } else total += 8;
  }
  return total;
}
