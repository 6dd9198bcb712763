import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of src/, lowest first (docs/ARCHITECTURE.md): a file may import its own folder and the
 * folders below it. The files at the top of src/ (errors, logging) are beneath every layer.
 */
const LAYERS = ['formats', 'config', 'storage', 'imaging', 'processing', 'lifecycle', 'http', 'web', 'runtime'];
const SRC = resolve(import.meta.dirname, '../src');

/** Every import and re-export between files of src/, type-only ones included: [from, to], relative to src/. */
function imports(): Array<[string, string]> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  const edges: Array<[string, string]> = [];
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const [, specifier] of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(SRC, resolve(SRC, dirname(file), specifier!)).replace(/\.js$/, '.ts');
      edges.push([file, target]);
    }
  }
  return edges;
}

const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');

/** The groups of nodes that reach each other (Tarjan), those of more than one node. */
function cycles(edges: Array<[string, string]>): string[][] {
  const next = new Map<string, string[]>();
  for (const [from, to] of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do group.push((member = stack.pop()!));
      while (member !== node);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const node of next.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('the layers of src/', () => {
  const edges = imports();

  it('finds the imports it checks', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(new Set(edges.map(([from]) => folderOf(from)))).toEqual(new Set(LAYERS));
  });

  it('never imports upwards: each folder imports only itself and the layers below it', () => {
    const upward = edges.filter(([from, to]) => {
      const [a, b] = [folderOf(from), folderOf(to)];
      return b !== '' && LAYERS.indexOf(b) > LAYERS.indexOf(a);
    });
    expect(upward.map(([from, to]) => `${from} -> ${to}`)).toEqual([]);
  });

  it('has no circle between folders, nor between files', () => {
    const between = edges.map(([from, to]) => [folderOf(from), folderOf(to)] as [string, string]).filter(([a, b]) => a !== b);
    expect(cycles(between)).toEqual([]);
    expect(cycles(edges)).toEqual([]);
  });
});
