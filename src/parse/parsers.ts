/**
 * Tree-sitter parsers and compiled queries, one per language, created lazily and reused.
 * Grammar versions are pinned in package.json (tree-sitter 0.25.1, tree-sitter-c 0.24.1,
 * tree-sitter-rust 0.24.0, tree-sitter-python 0.25.0, all from the npm registry).
 * Queries are data: `queries/<language>/<purpose>.scm`, bundled as text by esbuild.
 */
import Parser = require('tree-sitter');

export type GrammarName = 'c' | 'rust' | 'python';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const grammars: Record<GrammarName, () => unknown> = {
  c: () => require('tree-sitter-c'),
  rust: () => require('tree-sitter-rust'),
  python: () => require('tree-sitter-python'),
};

const parsers = new Map<GrammarName, Parser>();
const queries = new Map<string, Parser.Query>();

export function languageOf(name: GrammarName): Parser.Language {
  return grammars[name]() as Parser.Language;
}

export function parserFor(name: GrammarName): Parser {
  let p = parsers.get(name);
  if (!p) {
    p = new Parser();
    p.setLanguage(languageOf(name));
    parsers.set(name, p);
  }
  return p;
}

/** Compiles (once) and returns a query; `source` is the .scm text. Throws on a query that no
 *  longer matches the grammar, so a grammar upgrade that renames a node fails loudly. */
export function queryFor(name: GrammarName, key: string, source: string): Parser.Query {
  const k = `${name}:${key}`;
  let q = queries.get(k);
  if (!q) {
    q = new Parser.Query(languageOf(name), source);
    queries.set(k, q);
  }
  return q;
}

/** Parses text; with `includedRanges`, only those parts (positions stay those of the text). */
export function parse(name: GrammarName, text: string, includedRanges?: Parser.Range[]): Parser.Tree {
  return includedRanges ? parserFor(name).parse(text, undefined, { includedRanges }) : parserFor(name).parse(text);
}

export type SyntaxNode = Parser.SyntaxNode;
