/**
 * The names that C tables and type objects refer to and that no parsed file defines: a
 * table's function (`(PyCFunction)list_append`), a slot, a getter, a macro used as an entry
 * (`FUTURE_COMMON_GETSETLIST`, `X_METHODDEF`). Linking would report each as unresolved; the
 * indexer parses the files its cheap scan skipped that define one of them before linking, so
 * that one link sees them (linking again for a handful of files costs as much as the first
 * link). Pure: no I/O.
 */
import { stripCasts, type CElem, type CFileFacts } from './extract';

const IDENT = /^[A-Za-z_]\w*$/;

export function cUndefinedRefs(files: Iterable<CFileFacts>): Set<string> {
  const all = [...files];
  const defined = new Set<string>();
  for (const f of all) {
    for (const fn of f.functions) defined.add(fn.name);
    for (const d of f.defines) defined.add(d.name);
    for (const c of f.clinic) {
      defined.add(c.cbase);
      defined.add(`${c.cbase}_impl`);
      if (c.def) defined.add(c.def);
    }
  }
  const out = new Set<string>();
  const walk = (elems: CElem[]): void => {
    for (const e of elems) {
      if (e.items) {
        walk(e.items);
        continue;
      }
      const name = stripCasts(e.text);
      if (IDENT.test(name) && !defined.has(name)) out.add(name);
    }
  };
  for (const f of all) for (const i of f.inits) walk(i.elems);
  return out;
}
