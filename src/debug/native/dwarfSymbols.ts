/**
 * `Symbols` whose struct layouts come from Seam's own DWARF reader (dwarfTypes.ts) and whose
 * addresses come from the ELF symbol table, both of the interpreter's file; the debugger answers
 * only what those do not find (and the module list). Same answers, none of GDB's compile-unit
 * expansion at a first stop.
 */
import type { Symbols } from '../types';
import type { CTypes } from './dwarfTypes';

export class DwarfFirstSymbols implements Symbols {
  /**
   * @param types the interpreter's types, or undefined when there are none to read (then the debugger)
   * @param address a symbol's address from the interpreter's ELF symbol table, when readable
   */
  constructor(private readonly debuggerSymbols: Symbols, private readonly types: () => CTypes | undefined,
    private readonly ownAddress: (name: string) => bigint | undefined = () => undefined) {}

  async address(name: string): Promise<bigint | undefined> {
    return this.read(() => this.ownAddress(name)) ?? this.debuggerSymbols.address(name);
  }

  async offsetOf(type: string, field: string): Promise<number | undefined> {
    const own = this.read(() => this.types()?.offsetOf(type, field));
    return own ?? this.debuggerSymbols.offsetOf?.(type, field);
  }

  async sizeOf(type: string): Promise<number | undefined> {
    const own = this.read(() => this.types()?.sizeOf(type));
    return own ?? this.debuggerSymbols.sizeOf?.(type);
  }

  pythonMinor(): Promise<number | undefined> {
    return this.debuggerSymbols.pythonMinor?.() ?? Promise.resolve(undefined);
  }

  pythonModulePath(): Promise<string | undefined> {
    return this.debuggerSymbols.pythonModulePath?.() ?? Promise.resolve(undefined);
  }

  clear(): void {
    (this.debuggerSymbols as { clear?: () => void }).clear?.();
  }

  /** A DWARF the reader cannot read is the debugger's to answer. */
  private read<T>(f: () => T | undefined): T | undefined {
    try {
      return f();
    } catch {
      return undefined;
    }
  }
}
