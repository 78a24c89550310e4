/**
 * Native frames without the debugger's unwinder: Seam's own CFI unwind (unwind.ts) over the
 * process's memory, each physical frame symbolized from the mapped files' DWARF (dwarf.ts), its
 * inlined calls expanded as GDB shows them (same pc, innermost first). GDB's first
 * `-stack-list-frames` expands every compile unit the stack touches (~50 ms on libpython); this
 * reads only the line program and the DIEs on the path to each pc.
 */
import type { Memory, NativeFrame } from '../types';
import { unwind, type Module, type ModuleMap, type Registers, type UnwoundFrame } from './unwind';
import type { SymFrame } from './dwarf';
import { CachedSymbolizer, symbolCacheDir } from './symbolCache';
import { isRustName, cleanRustName } from '../stack/rustNames';

/** One symbolizer per mapped file (and its separate debug file), kept for the session, its
 *  answers kept across sessions in `dir` (symbolCache.ts). */
export class Symbolizers {
  private readonly byPath = new Map<string, CachedSymbolizer>();

  constructor(private readonly dir: string | undefined = symbolCacheDir()) {}

  of(m: Module): CachedSymbolizer {
    let s = this.byPath.get(m.path);
    if (!s) {
      s = new CachedSymbolizer(m.elf, m.debug, m.path, this.dir);
      this.byPath.set(m.path, s);
    }
    return s;
  }

  /** Writes what was learned this session. */
  saveAll(): void {
    for (const s of this.byPath.values()) s.save();
  }
}

/** Unwinds one thread from its innermost registers and names every frame. */
export async function ownNativeFrames(regs: Registers, memory: Memory, modules: ModuleMap, symbolizers: Symbolizers, opts: FrameOptions & { maxFrames?: number } = {}): Promise<NativeFrame[]> {
  const physical = await unwind(regs, memory, modules, opts);
  return framesOf(physical, (m) => symbolizers.of(m), opts);
}

export interface FrameOptions {
  /**
   * The thread stopped at a breakpoint at its pc: inlined calls that begin exactly there are
   * shown entered (GDB keeps them for a user breakpoint). Otherwise the stop is shown at their
   * call site, as GDB does.
   */
  atBreakpoint?: boolean;
}

/**
 * The debugger-shaped frames of an unwound stack: a physical frame gives one frame per inlined
 * call at its pc, innermost first, all with the frame's sp and CFA (the caller's sp). A pc in no
 * known file, or with no symbol, gives a nameless frame (`??` in GDB's words).
 */
export function framesOf(physical: readonly UnwoundFrame[], symbolizer: (m: Module) => Pick<CachedSymbolizer, 'frames' | 'inlinedEntriesAt'>, opts: FrameOptions = {}): NativeFrame[] {
  const out: NativeFrame[] = [];
  physical.forEach((u, i) => {
    const cfa = u.cfa ?? physical[i + 1]?.sp;
    let syms: SymFrame[] = [];
    if (u.module) {
      try {
        const sym = symbolizer(u.module);
        const addr = u.lookupPc - u.module.bias;
        syms = sym.frames(addr);
        // The stop itself (frame 0): inlined calls it has not entered yet are not shown.
        const skip = i === 0 && !opts.atBreakpoint ? Math.min(sym.inlinedEntriesAt(addr), syms.length - 1) : 0;
        if (skip > 0) syms = syms.slice(skip);
      } catch {
        syms = []; // a file we cannot read names nothing; the frame stays, nameless
      }
    }
    if (!syms.length) syms = [{ function: undefined }];
    for (const s of syms) out.push(nativeFrame(out.length, u, cfa, s));
  });
  return out;
}

function nativeFrame(level: number, u: UnwoundFrame, cfa: bigint | undefined, s: SymFrame): NativeFrame {
  const f: NativeFrame = { level, pc: u.pc, func: s.function, sp: u.sp };
  if (cfa !== undefined) f.cfa = cfa;
  if (s.file !== undefined) f.file = s.file;
  if (s.fullname !== undefined) f.fullname = s.fullname;
  if (s.line !== undefined) f.line = s.line;
  // As GDB: the shared library is named when there is no source file to name.
  if (s.file === undefined && u.module && !u.module.executable) f.from = u.module.path;
  if (f.func && isRustName(f.func)) {
    f.func = cleanRustName(f.func);
    f.rust = true;
  } else if (s.language === 'rust') {
    f.rust = true;
  }
  return f;
}

