/**
 * A pure function of a frame's name, remembered: a stack of thousands of frames names a few
 * dozen functions, and each name goes through dozens of patterns (Rust or not, glue or not).
 * The memory is bounded: past `max` names it starts again.
 */
export function byName<T>(f: (name: string) => T, max = 8192): (name: string) => T {
  const known = new Map<string, T>();
  return (name: string): T => {
    let v = known.get(name);
    if (v === undefined && !known.has(name)) {
      v = f(name);
      if (known.size >= max) known.clear();
      known.set(name, v);
    }
    return v as T;
  };
}
