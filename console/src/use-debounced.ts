import { useEffect, useState } from "react";

/** useDebounced follows `value` once it has stopped changing for `ms` (search as you type, one call). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
