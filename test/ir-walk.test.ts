// The IR's generic walks (tensor/ir.ts): which parts of each kind are sub-expressions, the order
// they are visited in, bottom-up and top-down rebuilding, and folds.
import { describe, expect, it } from 'vitest';
import {
  add, and, float, foldExpr, forEachExpr, int, load, lt, mapChildren, mapExpr, mul, rewriteExpr, select, someExpr, subExprs,
  substitute, v, type Expr,
} from '../tensor/ir.ts';

// select(i < 4 && j < 4, A[i, j] * 2.0, 0.0) + B[i]
const guard = and(lt(v('i'), int(4)), lt(v('j'), int(4)));
const body = add(select(guard, mul(load('A', [v('i'), v('j')]), float(2)), float(0)), load('B', [v('i')]));

const show = (e: Expr): string => {
  switch (e.k) {
    case 'int': case 'float': return String(e.v);
    case 'var': return e.name;
    case 'load': return `${e.tensor}[${e.index.map(show).join(',')}]`;
    default: return `${e.k}(${subExprs(e).map(show).join(',')})`;
  }
};

describe('generic expression walks', () => {
  it('subExprs lists every kind\'s children in evaluation order; leaves have none', () => {
    expect(subExprs(body).map(show)).toEqual(['select(and(cmp(i,4),cmp(j,4)),bin(A[i,j],2),0)', 'B[i]']);
    expect(subExprs(body.k === 'bin' ? body.a : body).map(show)).toEqual(['and(cmp(i,4),cmp(j,4))', 'bin(A[i,j],2)', '0']);
    expect(subExprs(load('A', [v('i'), v('j')])).map(show)).toEqual(['i', 'j']);
    for (const leaf of [int(1), float(1), v('x')]) expect(subExprs(leaf)).toEqual([]);
  });

  it('mapChildren rebuilds one level and keeps every other field', () => {
    const renamed = mapChildren(body, (c) => (c.k === 'load' ? { ...c, tensor: 'C' } : c));
    expect(show(renamed)).toBe('bin(select(and(cmp(i,4),cmp(j,4)),bin(A[i,j],2),0),C[i])');
    expect(renamed).toMatchObject({ k: 'bin', op: '+' });
    const leaf = v('x');
    expect(mapChildren(leaf, () => int(0))).toBe(leaf);
  });

  it('mapExpr rebuilds bottom-up: a node sees its children rebuilt', () => {
    const seen: string[] = [];
    const out = mapExpr(body, (e) => { seen.push(show(e)); return e.k === 'var' ? v(e.name.toUpperCase()) : e; });
    expect(show(out)).toBe('bin(select(and(cmp(I,4),cmp(J,4)),bin(A[I,J],2),0),B[I])');
    expect(seen.slice(0, 3)).toEqual(['i', '4', 'cmp(I,4)']);
    expect(seen.at(-1)).toBe(show(out));
    expect(show(body)).toContain('A[i,j]'); // the input is left as it was
  });

  it('rewriteExpr rebuilds top-down and does not enter what it replaced', () => {
    const visited: string[] = [];
    const out = rewriteExpr(body, (e) => { visited.push(show(e)); return e.k === 'load' ? load(`${e.tensor}_pad`, []) : null; });
    expect(show(out)).toBe('bin(select(and(cmp(i,4),cmp(j,4)),bin(A_pad[],2),0),B_pad[])');
    // Only the guard's i: the loads' indices were never visited.
    expect(visited.filter((x) => x === 'i')).toHaveLength(1);
  });

  it('foldExpr, forEachExpr and someExpr visit parents before children', () => {
    expect(foldExpr(body, [] as string[], (acc, e) => (e.k === 'load' ? [...acc, e.tensor] : acc))).toEqual(['A', 'B']);
    const order: string[] = [];
    forEachExpr(body, (e) => { if (e.k === 'var') order.push(e.name); });
    expect(order).toEqual(['i', 'j', 'i', 'j', 'i']);
    expect(someExpr(body, (e) => e.k === 'var' && e.name === 'j')).toBe(true);
    expect(someExpr(body, (e) => e.k === 'var' && e.name === 'k')).toBe(false);
  });

  it('substitute replaces variables everywhere, and not inside what it put in', () => {
    const out = substitute(body, { i: add(v('i'), v('j')), j: int(0) });
    expect(show(out)).toBe('bin(select(and(cmp(bin(i,j),4),cmp(0,4)),bin(A[bin(i,j),0],2),0),B[bin(i,j)])');
  });
});
