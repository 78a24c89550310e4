/**
 * Python names at a cursor: the fully qualified names the identifier under the cursor may stand
 * for, best first (`math.sqrt`, `builtins.list.append`, `sample.Engine.run`). Pure: parses the
 * text once with tree-sitter and resolves the identifier through Python's scopes (function ->
 * enclosing functions -> module -> builtins), the file's imports and the evident types of
 * literal receivers. The index then resolves each name to its implementations.
 */
import { parse, type SyntaxNode } from '../../parse/parsers';
import { classChain, decoratorsOf, dottedText, moduleRef } from './extract';
import { resolveRelative } from './module';
import { BUILTIN_EXCEPTIONS, BUILTIN_FUNCTIONS, BUILTIN_TYPES } from './builtinNames';

export interface CursorOptions {
  /** The file is its package's `__init__` (relative imports are taken against `module` itself).
   *  Unknown by default: both readings are offered, the plain-module one first. */
  isPackage?: boolean;
}

const BUILTINS = new Set([...BUILTIN_TYPES, ...BUILTIN_FUNCTIONS, ...BUILTIN_EXCEPTIONS]);

/** Builtin functions whose result type is evident (`sorted(x).index`). */
const BUILTIN_RESULTS: Record<string, string> = {
  sorted: 'list', len: 'int', repr: 'str', ascii: 'str', format: 'str', chr: 'str', hex: 'str',
  oct: 'str', bin: 'str', input: 'str', ord: 'int', hash: 'int', id: 'int', dir: 'list',
  divmod: 'tuple', vars: 'dict', globals: 'dict', locals: 'dict',
};

const SCOPE_TYPES = new Set([
  'module', 'function_definition', 'lambda', 'class_definition',
  'list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression',
]);

/** What a name is bound to in one scope. */
type Bind =
  | { k: 'import'; targets: string[] }
  | { k: 'def' }
  | { k: 'class' }
  | { k: 'var'; value?: SyntaxNode }
  | { k: 'param'; receiver?: 'self' | 'cls' }
  | { k: 'global' };

interface Scope {
  binds: Map<string, Bind[]>;
  /** `from X import *`: candidate modules for names bound nowhere else. */
  stars: string[];
}

/** A value an expression may have: a named thing (`math.sqrt`) and/or an instance of a class. */
interface Val {
  fqn?: string;
  instanceOf?: string;
}

export function namesAtCursor(
  text: string,
  line: number,
  character: number,
  module: string,
  opts: CursorOptions = {},
): string[] {
  const root = parse('python', text).rootNode;
  let node = root.descendantForPosition({ row: line, column: character });
  if (node.type !== 'identifier' && character > 0) {
    // The cursor just after a word (`math|.sqrt`).
    node = root.descendantForPosition({ row: line, column: character - 1 });
  }
  if (node.type !== 'identifier') return [];
  return unique(new CursorResolver(module, opts).namesAt(node));
}

function unique(xs: string[]): string[] {
  return [...new Set(xs.filter((x) => x))];
}

class CursorResolver {
  private readonly scopes = new Map<number, Scope>();

  constructor(
    private readonly module: string,
    private readonly opts: CursorOptions,
  ) {}

  namesAt(ident: SyntaxNode): string[] {
    const parent = ident.parent;
    if (!parent) return [];
    const fromImport = this.inImport(ident);
    if (fromImport) return fromImport;
    switch (parent.type) {
      case 'function_definition':
      case 'class_definition':
        if (parent.childForFieldName('name')?.id === ident.id) return this.defName(parent);
        break;
      case 'keyword_argument':
        if (parent.childForFieldName('name')?.id === ident.id) return [];
        break;
      case 'attribute':
        if (parent.childForFieldName('attribute')?.id === ident.id) return names(this.qualify(parent));
        break;
    }
    return names(this.qualify(ident));
  }

  // -------------------------------------------------------------------------------------------
  // Definitions and imports under the cursor

  private defName(def: SyntaxNode): string[] {
    const chain = classChain(def);
    if (!chain) return [];
    return [[this.module, ...chain, def.childForFieldName('name')!.text].filter((x) => x).join('.')];
  }

  /** Packages a relative import of `level` dots may be taken against, best first. */
  private relative(level: number, rel: string): string[] {
    if (level === 0) return [rel];
    const readings =
      this.opts.isPackage !== undefined ? [this.opts.isPackage] : this.module.includes('.') ? [false, true] : [true];
    return unique(readings.map((pkg) => resolveRelative(this.module, pkg, level, rel) ?? ''));
  }

  private fromModules(stmt: SyntaxNode): string[] {
    const modNode = stmt.childForFieldName('module_name');
    if (!modNode) return [];
    const { module, level } = moduleRef(modNode);
    return this.relative(level, module);
  }

  /** The cursor on an import statement: the module, or the imported name. */
  private inImport(ident: SyntaxNode): string[] | undefined {
    let dotted = ident.parent;
    if (!dotted) return undefined;
    if (dotted.type === 'aliased_import' && dotted.childForFieldName('alias')?.id === ident.id) {
      // `import numpy as np` / `from x import y as z`, the cursor on the alias.
      dotted = dotted.childForFieldName('name');
      if (!dotted) return undefined;
      ident = dotted.namedChildren[dotted.namedChildren.length - 1];
    }
    if (dotted.type !== 'dotted_name') return undefined;
    const ids = dotted.namedChildren.filter((c) => c.type === 'identifier');
    const upTo = ids.slice(0, ids.findIndex((c) => c.id === ident.id) + 1).map((c) => c.text);
    const prefix = upTo.join('.');
    let holder = dotted.parent;
    let inAlias = false;
    if (holder?.type === 'aliased_import') {
      inAlias = true;
      holder = holder.parent;
    }
    if (!holder) return undefined;
    switch (holder.type) {
      case 'import_statement':
        return [prefix];
      case 'future_import_statement':
        return [`__future__.${prefix}`];
      case 'relative_import': {
        const prefixNode = holder.namedChildren.find((c) => c.type === 'import_prefix');
        return this.relative(prefixNode ? prefixNode.text.replace(/\s/g, '').length : 0, prefix);
      }
      case 'import_from_statement': {
        if (!inAlias && holder.childForFieldName('module_name')?.id === dotted.id) return [prefix];
        return this.fromModules(holder).map((m) => `${m}.${prefix}`);
      }
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  private qualify(expr: SyntaxNode): Val[] {
    switch (expr.type) {
      case 'identifier':
        return this.lookup(expr.text, expr);
      case 'parenthesized_expression': {
        const inner = expr.namedChildren.find((c) => c.type !== 'comment');
        return inner ? this.qualify(inner) : [];
      }
      case 'attribute': {
        const obj = expr.childForFieldName('object');
        const attr = expr.childForFieldName('attribute')?.text;
        if (!obj || !attr) return [];
        const out: Val[] = [];
        const literal = this.typeOf(obj);
        if (literal) out.push({ fqn: `${literal}.${attr}` });
        for (const v of obj.type === 'call' ? [] : this.qualify(obj)) {
          if (v.instanceOf) out.push({ fqn: `${v.instanceOf}.${attr}` });
          else if (v.fqn) out.push({ fqn: `${v.fqn}.${attr}` });
        }
        return out;
      }
      default:
        return [];
    }
  }

  /** The class an expression evidently is an instance of (`[]`, `""`, `list(x)`, `Engine()`). */
  private typeOf(expr: SyntaxNode): string | undefined {
    switch (expr.type) {
      case 'list':
      case 'list_comprehension':
        return 'builtins.list';
      case 'dictionary':
      case 'dictionary_comprehension':
        return 'builtins.dict';
      case 'set':
      case 'set_comprehension':
        return 'builtins.set';
      case 'tuple':
        return 'builtins.tuple';
      case 'string': {
        const start = expr.namedChildren.find((c) => c.type === 'string_start')?.text ?? '';
        return /b/i.test(start) ? 'builtins.bytes' : 'builtins.str';
      }
      case 'concatenated_string':
        return expr.namedChildren[0] ? this.typeOf(expr.namedChildren[0]) : undefined;
      case 'integer':
        return /[jJ]$/.test(expr.text) ? 'builtins.complex' : 'builtins.int';
      case 'float':
        return /[jJ]$/.test(expr.text) ? 'builtins.complex' : 'builtins.float';
      case 'true':
      case 'false':
        return 'builtins.bool';
      case 'parenthesized_expression': {
        const inner = expr.namedChildren.find((c) => c.type !== 'comment');
        return inner ? this.typeOf(inner) : undefined;
      }
      case 'call': {
        const fn = expr.childForFieldName('function');
        if (!fn) return undefined;
        // `super()` in a method: the class's first base (what it inherits comes from there).
        if (fn.type === 'identifier' && fn.text === 'super' && this.qualify(fn).some((v) => v.fqn === 'builtins.super')) {
          return this.superOf(expr);
        }
        for (const v of this.qualify(fn)) {
          if (!v.fqn) continue;
          if (v.fqn.startsWith('builtins.')) {
            const b = v.fqn.slice('builtins.'.length);
            if (BUILTIN_TYPES.has(b)) return v.fqn;
            if (BUILTIN_RESULTS[b]) return `builtins.${BUILTIN_RESULTS[b]}`;
            return undefined;
          }
          // A call of a non-builtin name: most often a class (`Engine()`, `collections.deque()`).
          return v.fqn;
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Scopes

  /** Python's lookup: enclosing function scopes (a class body only when innermost), the
   *  module, builtins, then the modules of star imports. */
  private lookup(name: string, at: SyntaxNode): Val[] {
    const chain = this.scopeChain(at);
    const stars: string[] = [];
    for (let i = 0; i < chain.length; i++) {
      const node = chain[i];
      if (node.type === 'class_definition' && i > 0) continue;
      const scope = this.scope(node);
      stars.push(...scope.stars);
      const binds = scope.binds.get(name);
      if (!binds) continue;
      if (binds.some((b) => b.k === 'global') && node.type !== 'module') {
        const mod = this.scope(chain[chain.length - 1]).binds.get(name);
        return mod ? this.valsOf(name, mod, chain[chain.length - 1]) : this.builtin(name);
      }
      return this.valsOf(name, binds, node);
    }
    const out = this.builtin(name);
    for (const m of stars) out.push({ fqn: `${m}.${name}` });
    return out;
  }

  private builtin(name: string): Val[] {
    return BUILTINS.has(name) ? [{ fqn: `builtins.${name}` }] : [];
  }

  private valsOf(name: string, binds: Bind[], scopeNode: SyntaxNode): Val[] {
    const prefix = this.prefixOf(scopeNode);
    const out: Val[] = [];
    const order = ['import', 'def', 'class', 'var', 'param', 'global'];
    for (const b of [...binds].sort((x, y) => order.indexOf(x.k) - order.indexOf(y.k))) {
      switch (b.k) {
        case 'import':
          out.push(...b.targets.map((fqn) => ({ fqn })));
          break;
        case 'def':
        case 'class':
          if (prefix !== undefined) out.push({ fqn: join(prefix, name) });
          break;
        case 'var': {
          const t = b.value ? this.typeOf(b.value) : undefined;
          if (prefix !== undefined) out.push({ fqn: join(prefix, name), instanceOf: t });
          else if (t) out.push({ instanceOf: t });
          break;
        }
        case 'param': {
          const cls = b.receiver ? this.classOfMethod(scopeNode) : undefined;
          if (cls && b.receiver === 'self') out.push({ instanceOf: cls });
          else if (cls) out.push({ fqn: cls });
          break;
        }
      }
    }
    return out;
  }

  /** The qualified name of a module or module-level class scope; undefined for functions. */
  private prefixOf(scopeNode: SyntaxNode): string | undefined {
    if (scopeNode.type === 'module') return this.module;
    if (scopeNode.type === 'class_definition') return this.classFqn(scopeNode);
    return undefined;
  }

  private classFqn(cls: SyntaxNode): string | undefined {
    const chain = classChain(cls);
    if (!chain) return undefined;
    return [this.module, ...chain, cls.childForFieldName('name')!.text].filter((x) => x).join('.');
  }

  /** The class a function is a method of (directly in its body), as a qualified name. */
  /** For `super()` at `at`: the first base of the class whose method encloses it (`builtins.object`
   *  when it names none). */
  private superOf(at: SyntaxNode): string | undefined {
    let fn: SyntaxNode | null = at.parent;
    while (fn && fn.type !== 'function_definition') fn = fn.parent;
    let cls: SyntaxNode | null = fn?.parent ?? null;
    while (cls && cls.type !== 'class_definition') {
      if (SCOPE_TYPES.has(cls.type)) return undefined;
      cls = cls.parent;
    }
    if (!cls) return undefined;
    const first = cls.childForFieldName('superclasses')?.namedChildren.find((c) => c.type !== 'keyword_argument' && c.type !== 'comment');
    if (!first) return 'builtins.object';
    return this.qualify(first).find((v) => v.fqn)?.fqn;
  }

  private classOfMethod(fn: SyntaxNode): string | undefined {
    for (let p = fn.parent; p; p = p.parent) {
      if (p.type === 'class_definition') return this.classFqn(p);
      if (SCOPE_TYPES.has(p.type)) return undefined;
    }
    return undefined;
  }

  /** Scopes whose names are visible at `at`, innermost first, the module last. A function's
   *  scope covers its body only (defaults and decorators are evaluated outside it). */
  private scopeChain(at: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let p = at.parent; p; p = p.parent) {
      if (!SCOPE_TYPES.has(p.type)) continue;
      if (p.type === 'function_definition' || p.type === 'class_definition' || p.type === 'lambda') {
        const body = p.childForFieldName('body');
        const inParams = p.type !== 'class_definition' && within(at, p.childForFieldName('parameters')) && !evaluatedOutside(at, p);
        if (!within(at, body) && !inParams) continue;
      }
      out.push(p);
    }
    return out;
  }

  private scope(node: SyntaxNode): Scope {
    let s = this.scopes.get(node.id);
    if (!s) {
      s = this.collect(node);
      this.scopes.set(node.id, s);
    }
    return s;
  }

  private collect(scopeNode: SyntaxNode): Scope {
    const scope: Scope = { binds: new Map(), stars: [] };
    const bind = (name: string, b: Bind): void => {
      const l = scope.binds.get(name);
      if (l) l.push(b);
      else scope.binds.set(name, [b]);
    };
    const bindTargets = (t: SyntaxNode, value?: SyntaxNode): void => {
      switch (t.type) {
        case 'identifier':
          bind(t.text, { k: 'var', value });
          break;
        case 'pattern_list':
        case 'tuple_pattern':
        case 'list_pattern':
        case 'expression_list':
        case 'tuple':
        case 'list':
        case 'list_splat_pattern':
        case 'parenthesized_expression':
        case 'as_pattern_target':
          t.namedChildren.forEach((c) => bindTargets(c));
          break;
      }
    };
    const walk = (n: SyntaxNode): void => {
      switch (n.type) {
        case 'function_definition':
          bind(n.childForFieldName('name')!.text, { k: 'def' });
          return;
        case 'class_definition':
          bind(n.childForFieldName('name')!.text, { k: 'class' });
          return;
        case 'lambda':
        case 'list_comprehension':
        case 'set_comprehension':
        case 'dictionary_comprehension':
        case 'generator_expression':
          return;
        case 'import_statement':
          for (const c of n.childrenForFieldName('name')) {
            if (c.type === 'aliased_import') {
              bind(c.childForFieldName('alias')!.text, { k: 'import', targets: [dottedText(c.childForFieldName('name')!)] });
            } else {
              const first = dottedText(c).split('.')[0];
              bind(first, { k: 'import', targets: [first] });
            }
          }
          return;
        case 'import_from_statement': {
          const mods = this.fromModules(n);
          if (n.namedChildren.some((c) => c.type === 'wildcard_import')) {
            scope.stars.push(...mods);
            return;
          }
          for (const c of n.childrenForFieldName('name')) {
            const target = dottedText(c.type === 'aliased_import' ? c.childForFieldName('name')! : c);
            const local = c.type === 'aliased_import' ? c.childForFieldName('alias')!.text : target;
            bind(local, { k: 'import', targets: mods.map((m) => `${m}.${target}`) });
          }
          return;
        }
        case 'assignment': {
          const left = n.childForFieldName('left');
          const right = n.childForFieldName('right');
          if (left) bindTargets(left, right && right.type !== 'assignment' ? right : undefined);
          if (right) walk(right);
          return;
        }
        case 'augmented_assignment': {
          const left = n.childForFieldName('left');
          if (left) bindTargets(left);
          return;
        }
        case 'for_statement':
        case 'for_in_clause': {
          const left = n.childForFieldName('left');
          if (left) bindTargets(left);
          break;
        }
        case 'named_expression': {
          const name = n.childForFieldName('name');
          if (name) bindTargets(name, n.childForFieldName('value') ?? undefined);
          break;
        }
        case 'as_pattern': {
          const alias = n.childForFieldName('alias');
          if (alias) bindTargets(alias);
          break;
        }
        case 'global_statement':
        case 'nonlocal_statement':
          for (const c of n.namedChildren) if (c.type === 'identifier') bind(c.text, n.type === 'global_statement' ? { k: 'global' } : { k: 'param' });
          return;
      }
      for (const c of n.namedChildren) walk(c);
    };

    switch (scopeNode.type) {
      case 'function_definition':
      case 'lambda': {
        const params = scopeNode.childForFieldName('parameters');
        if (params) this.bindParams(scopeNode, params, bind);
        const body = scopeNode.childForFieldName('body');
        if (body) walk(body);
        break;
      }
      case 'class_definition': {
        const body = scopeNode.childForFieldName('body');
        if (body) walk(body);
        break;
      }
      case 'module':
        walk(scopeNode);
        break;
      default:
        // Comprehensions: their `for` targets.
        for (const c of scopeNode.namedChildren) {
          if (c.type === 'for_in_clause') {
            const left = c.childForFieldName('left');
            if (left) bindTargets(left);
          }
        }
    }
    return scope;
  }

  private bindParams(fn: SyntaxNode, params: SyntaxNode, bind: (name: string, b: Bind) => void): void {
    let receiver: 'self' | 'cls' | undefined;
    if (fn.type === 'function_definition' && this.classOfMethod(fn)) {
      const decos = decoratorsOf(fn);
      const name = fn.childForFieldName('name')?.text ?? '';
      if (!decos.includes('staticmethod')) {
        receiver =
          decos.includes('classmethod') || name === '__new__' || name === '__init_subclass__' || name === '__class_getitem__'
            ? 'cls'
            : 'self';
      }
    }
    let first = true;
    for (const p of params.namedChildren) {
      const id = paramName(p);
      if (!id) continue;
      bind(id, first && receiver ? { k: 'param', receiver } : { k: 'param' });
      first = false;
    }
  }
}

function paramName(p: SyntaxNode): string | undefined {
  switch (p.type) {
    case 'identifier':
      return p.text;
    case 'default_parameter':
    case 'typed_default_parameter':
      return p.childForFieldName('name')?.text;
    case 'typed_parameter':
    case 'list_splat_pattern':
    case 'dictionary_splat_pattern': {
      const inner = p.namedChildren.find((c) => c.type !== 'type');
      return inner ? paramName(inner) : undefined;
    }
    default:
      return undefined;
  }
}

function within(n: SyntaxNode, outer: SyntaxNode | null): boolean {
  return !!outer && n.startIndex >= outer.startIndex && n.endIndex <= outer.endIndex;
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function names(vals: Val[]): string[] {
  return vals.map((v) => v.fqn ?? '').filter((x) => x);
}

/** Whether `at`, inside a function's parameters, is in a default value or an annotation: those
 *  are evaluated where the function is defined (`isinstance=isinstance` reads the builtin). */
function evaluatedOutside(at: SyntaxNode, fn: SyntaxNode): boolean {
  for (let n: SyntaxNode | null = at; n && n !== fn; n = n.parent) {
    const p = n.parent;
    if (!p) break;
    if ((p.type === 'default_parameter' || p.type === 'typed_default_parameter') && p.childForFieldName('value')?.id === n.id) return true;
    if ((p.type === 'typed_parameter' || p.type === 'typed_default_parameter') && p.childForFieldName('type')?.id === n.id) return true;
  }
  return false;
}
