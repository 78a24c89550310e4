/**
 * C struct layouts from one compile unit's DWARF: `offsetof(type, a.b.c)` and `sizeof(type)`,
 * for the interpreter-memory reader's layout (python/layout.ts), without asking the debugger
 * (GDB answers each question by expanding compile units: ~40 ms at a first stop).
 *
 * Types are looked up by name among the unit's top-level DIEs: typedef names (`PyThreadState`)
 * and struct/union tags (`struct _gil_runtime_state`). A unit that includes CPython's internal
 * headers (the eval loop's: Python/ceval.c) defines every type the reader needs. A name not
 * found, or a struct only declared there, gives undefined: the caller asks the debugger then.
 */
import { type Die, STOP, forEachChild, readDie, strOf } from './dwarfInfo';
import { Tag } from './dwarfReader';
import type { CuState } from './dwarfUnits';

/** How many typedef/qualifier links a type may go through (cycles in bad DWARF). */
const MAX_LINKS = 16;

/** A DIE with the unit it was read in (LTO units refer to types in other units). */
interface At {
  cu: CuState;
  die: Die;
}

/** Other units searched for a type the unit lacks, at most. */
const MAX_RELATED = 8;

/** What the layout asks of C types: `offsetof` and `sizeof`, undefined where unknown. */
export interface CTypes {
  offsetOf(type: string, field: string): number | undefined;
  sizeOf(type: string): number | undefined;
}

/**
 * Several units' types asked in order, each read only once an earlier one lacks an answer:
 * the eval loop's unit, then units of private headers it does not include (3.10's
 * `PyDictKeysObject` lives in Objects/dict-common.h, included by Objects/dictobject.c alone).
 */
export class TypesInOrder implements CTypes {
  private readonly read: (CTypes | undefined | null)[] = [];

  constructor(private readonly units: readonly (() => CTypes | undefined)[]) {}

  offsetOf(type: string, field: string): number | undefined {
    return this.first((t) => t.offsetOf(type, field));
  }

  sizeOf(type: string): number | undefined {
    return this.first((t) => t.sizeOf(type));
  }

  private first(ask: (t: CTypes) => number | undefined): number | undefined {
    for (let i = 0; i < this.units.length; i++) {
      if (this.read[i] === undefined) this.read[i] = this.units[i]() ?? null;
      const t = this.read[i];
      const v = t ? ask(t) : undefined;
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

export class DwarfTypes implements CTypes {
  private typedefs: Map<string, number> | undefined;
  private tags: Map<string, number> | undefined;
  private others: DwarfTypes[] | undefined;
  /** Answers by `type\0field` (`type` alone for sizes): a layout asks each once a session, but
   *  a session may ask it before the first stop (prepare.ts) and again at it. */
  private readonly answers = new Map<string, number | undefined>();

  /**
   * @param unitOf the unit holding a `.debug_info` offset (for references out of `cu`).
   * @param related units to search, in order, for a type `cu` does not define: a link-time
   *   optimised build's units hold functions whose types stay in the units they were compiled
   *   in (Debian's python3.11-dbg: the eval loop's unit defines no type at all).
   */
  constructor(private readonly cu: CuState, private readonly unitOf: (offset: number) => CuState,
    private readonly related: () => CuState[] = () => []) {}

  offsetOf(type: string, field: string): number | undefined {
    return this.answer(`${type}\0${field}`, () => this.owner(type)?.offsetIn(type, field));
  }

  sizeOf(type: string): number | undefined {
    return this.answer(type, () => this.owner(type)?.resolve(type)?.die.byteSize);
  }

  private answer(key: string, compute: () => number | undefined): number | undefined {
    if (this.answers.has(key)) return this.answers.get(key);
    const v = compute();
    this.answers.set(key, v);
    return v;
  }

  /** This unit's types when it defines `type`, else the first related unit's that does. */
  private owner(type: string): DwarfTypes | undefined {
    if (this.resolve(type)) return this;
    this.others ??= this.related().filter((u) => u !== this.cu).slice(0, MAX_RELATED).map((u) => new DwarfTypes(u, this.unitOf));
    return this.others.find((o) => o.resolve(type));
  }

  private offsetIn(type: string, field: string): number | undefined {
    let at = this.resolve(type);
    let offset = 0;
    for (const name of field.split('.')) {
      if (!at) return undefined;
      const m = this.member(at, name);
      if (!m) return undefined;
      offset += m.offset;
      at = m.type;
    }
    return offset;
  }

  /** The struct or union a C type name denotes, typedefs and qualifiers followed. */
  private resolve(type: string): At | undefined {
    this.index();
    const name = type.trim();
    const tagged = /^(?:struct|union)\s+(\w+)$/.exec(name);
    const offset = tagged ? this.tags!.get(tagged[1]) : this.typedefs!.get(name) ?? this.tags!.get(name);
    return offset === undefined ? undefined : this.aggregate(offset);
  }

  /** Follows typedefs and qualifiers from the DIE at `offset` to a struct/union definition. */
  private aggregate(offset: number): At | undefined {
    let at: number | undefined = offset;
    for (let i = 0; i < MAX_LINKS && at !== undefined; i++) {
      const cu = this.unitAt(at);
      const die = readDie(cu.unit, at);
      if (die.tag === Tag.structure_type || die.tag === Tag.union_type) {
        if (!die.declaration) return { cu, die };
        // Declared here, defined elsewhere in the unit (or not at all: the debugger's turn).
        const name = strOf(die.name);
        const def = name === undefined ? undefined : this.tags!.get(name);
        return def === undefined || def === at ? undefined : this.aggregate(def);
      }
      if (die.tag !== Tag.typedef && die.tag !== Tag.const_type && die.tag !== Tag.volatile_type && die.tag !== Tag.atomic_type) return undefined;
      at = die.type;
    }
    return undefined;
  }

  private unitAt(offset: number): CuState {
    const u = this.cu.unit;
    return offset >= u.dieStart && offset < u.end ? this.cu : this.unitOf(offset);
  }

  /** A member by name, looking into anonymous struct/union members as C does. */
  private member(aggregate: At, name: string): { offset: number; type: At | undefined } | undefined {
    let found: { offset: number; type: At | undefined } | undefined;
    forEachChild(aggregate.cu.unit, aggregate.die, (child) => {
      if (child.tag !== Tag.member) return undefined;
      const own = strOf(child.name);
      const offset = child.memberOffset ?? 0;
      if (own === name) {
        found = { offset, type: child.type === undefined ? undefined : this.aggregate(child.type) };
        return STOP;
      }
      if (own === undefined && child.type !== undefined) {
        const inner = this.aggregate(child.type);
        const m = inner && this.member(inner, name);
        if (m) {
          found = { offset: offset + m.offset, type: m.type };
          return STOP;
        }
      }
      return undefined;
    });
    return found;
  }

  /** The unit's top-level typedef names and struct/union tags (definitions preferred). */
  private index(): void {
    if (this.typedefs) return;
    const typedefs = new Map<string, number>(), tags = new Map<string, number>();
    const unit = this.cu.unit;
    const defined = new Set<string>();
    forEachChild(unit, unit.rootDie(), (d) => {
      if (d.name === undefined) return undefined;
      if (d.tag === Tag.typedef) {
        const n = strOf(d.name)!;
        if (!typedefs.has(n)) typedefs.set(n, d.offset);
      } else if (d.tag === Tag.structure_type || d.tag === Tag.union_type) {
        const n = strOf(d.name)!;
        if (!d.declaration && !defined.has(n)) {
          defined.add(n);
          tags.set(n, d.offset);
        } else if (!tags.has(n)) {
          tags.set(n, d.offset);
        }
      }
      return undefined;
    });
    this.typedefs = typedefs;
    this.tags = tags;
  }
}
