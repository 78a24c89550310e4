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
  const refs = new CRefs();
  for (const f of files) refs.add(f);
  return refs.undefinedNames();
}

/** `cUndefinedRefs` a file at a time: the indexer adds each file's facts as a worker hands them
 *  over (its main thread waits for the workers then), so that only the difference is left once
 *  the last C file is in. */
export class CRefs {
  private readonly defined = new Set<string>();
  private readonly referenced = new Set<string>();

  add(f: CFileFacts): void {
    const defined = this.defined;
    for (const fn of f.functions) defined.add(fn.name);
    for (const d of f.defines) defined.add(d.name);
    for (const c of f.clinic) {
      defined.add(c.cbase);
      defined.add(`${c.cbase}_impl`);
      if (c.def) defined.add(c.def);
    }
    for (const i of f.inits) this.walk(i.elems);
  }

  undefinedNames(): Set<string> {
    const out = new Set<string>();
    for (const name of this.referenced) if (!this.defined.has(name)) out.add(name);
    return out;
  }

  private walk(elems: CElem[]): void {
    for (const e of elems) {
      if (e.items) {
        this.walk(e.items);
        continue;
      }
      const name = stripCasts(e.text);
      if (!this.referenced.has(name) && IDENT.test(name)) this.referenced.add(name);
    }
  }
}
