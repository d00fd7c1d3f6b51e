// Formula text to expression tree: a tokenizer and a precedence-climbing parser. The grammar (README,
// "Formulas"):
//   model   := NAME '~' expr
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := atom (('^' | '**') unary)?          right-associative; binds tighter than unary minus on its left
//   atom    := NUMBER | NAME | NAME '(' args ')' | '(' expr ')'
// so -x^2 is -(x^2), 2^3^2 is 2^9 and 2^-1 is 0.5, as in mathematics and Python. Errors carry the position,
// which FormulaError prints under the formula with a caret.
import { binary, call, chain, neg, num, sym, type Node } from './ast.ts';
import { CONSTANTS, FUNCTIONS } from './functions.ts';

export class FormulaError extends Error {
  constructor(readonly reason: string, readonly formula: string, readonly position: number) {
    super(`${reason} at column ${position + 1}\n  ${formula}\n  ${' '.repeat(position)}^`);
    this.name = 'FormulaError';
  }
}

type Token = { kind: 'num'; value: number; pos: number; text: string } | { kind: 'name'; text: string; pos: number } | { kind: 'op'; text: string; pos: number } | { kind: 'end'; pos: number };

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_.]*/;

/**
 * Names every JavaScript object answers to (toString, constructor, __proto__, ...): a parameter or column so
 * named would be looked up as the object's own member by every table of names downstream, so it is refused.
 */
export const JS_OBJECT_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Levels of nesting (parentheses, calls, unary signs, powers) a formula may have. Every walk of the tree
 * recurses that deep and a derivation's text grows with its cube: 800 nested exp() exhausted the heap
 * printing the derivation, and 3000 parentheses overflowed the stack with no position to show.
 */
export const MAX_NESTING = 256;

/** table[key] where key is the table's own entry, never one it inherits (toString, constructor, ...). */
export function ownEntry<T>(table: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const rest = text.slice(i);
    const n = NUMBER.exec(rest);
    if (n) {
      const value = Number(n[0]);
      if (!Number.isFinite(value)) throw new FormulaError(`the number ${n[0]} is too large (it is not finite)`, text, i);
      out.push({ kind: 'num', value, pos: i, text: n[0] });
      i += n[0].length;
      if (NAME.test(text.slice(i)) && !/^[eE]/.test(text.slice(i))) throw new FormulaError('a number runs into a name (write 2*x, not 2x)', text, i);
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      out.push({ kind: 'name', text: name[0].replace(/\.$/, ''), pos: i });
      i += name[0].replace(/\.$/, '').length;
      continue;
    }
    if (rest.startsWith('**')) {
      out.push({ kind: 'op', text: '^', pos: i });
      i += 2;
      continue;
    }
    if ('+-*/^(),~'.includes(c)) {
      out.push({ kind: 'op', text: c, pos: i });
      i++;
      continue;
    }
    throw new FormulaError(`unexpected character "${c}"`, text, i);
  }
  out.push({ kind: 'end', pos: text.length });
  return out;
}

/** Calls a formula may contain besides the function table (expanded by model.ts before compiling). */
export interface ParseOptions {
  /** Extra callables, e.g. linear(...), with their arity (-1: any number of names). */
  macros?: Readonly<Record<string, (args: Node[], pos: number) => Node>>;
  /** Names declared as data columns or parameters: one named like a constant (e, pi) is ambiguous, so it is refused. */
  declared?: ReadonlyMap<string, 'column of the data' | 'declared parameter'>;
}

export function parseExpression(text: string, options: ParseOptions = {}, offset = 0, source = text): Node {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (e) {
    // A tokenizer error names the position in the text it was given: place it in the whole formula.
    if (e instanceof FormulaError && (offset !== 0 || source !== text)) throw new FormulaError(e.reason, source, e.position + offset);
    throw e;
  }
  const p = new Parser(tokens.map((t) => ({ ...t, pos: t.pos + offset })), source, options);
  const node = p.expr();
  p.expectEnd();
  return node;
}

/** `TARGET ~ EXPR`: the target's name and the model's tree. */
export function parseModel(text: string, options: ParseOptions = {}): { target: string; model: Node; exprOffset: number } {
  const tilde = text.indexOf('~');
  if (tilde < 0) throw new FormulaError('a model is written TARGET ~ EXPRESSION (no "~" found)', text, text.length);
  const lhs = text.slice(0, tilde).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(lhs)) {
    const at = lhs === '' ? tilde : text.indexOf(lhs);
    throw new FormulaError(lhs === '' ? 'the target column is missing before "~"' : 'the target must be one column name', text, at);
  }
  if (JS_OBJECT_NAMES.has(lhs)) throw new FormulaError(`the name "${lhs}" is reserved (every JavaScript object has a member of that name): rename the column`, text, text.indexOf(lhs));
  const rhs = text.slice(tilde + 1);
  if (rhs.trim() === '') throw new FormulaError('the model expression is missing after "~"', text, text.length);
  return { target: lhs, model: parseExpression(rhs, options, tilde + 1, text), exprOffset: tilde + 1 };
}

class Parser {
  private i = 0;
  /** Levels of nesting entered: the formula's own level is 0, so `((x))` nests 2 deep. */
  private depth = -1;
  constructor(private readonly tokens: Token[], private readonly text: string, private readonly options: ParseOptions) {}

  private peek(): Token {
    return this.tokens[this.i];
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }

  private fail(reason: string, t: Token = this.peek()): never {
    throw new FormulaError(reason, this.text, t.pos);
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind === 'end') return;
    if (t.kind === 'op' && t.text === ')') this.fail('unmatched ")"');
    if (t.kind === 'op' && t.text === '~') this.fail('"~" may appear once, after the target');
    this.fail(`expected an operator, found "${t.kind === 'num' ? t.text : (t as { text: string }).text}"`);
  }

  /** Terms joined by + and − (ast.ts: chain, the left-to-right tree up to SUM_RUN terms, of bounded depth beyond). */
  expr(): Node {
    const first = this.term();
    const ops: Array<'+' | '-'> = [];
    const rest: Node[] = [];
    while (this.isOp('+') || this.isOp('-')) {
      ops.push((this.tokens[this.i++] as { text: '+' | '-' }).text);
      rest.push(this.term());
    }
    return chain(first, ops, rest);
  }

  /** Factors joined by * and /, as terms are. */
  private term(): Node {
    const first = this.unary();
    const ops: Array<'*' | '/'> = [];
    const rest: Node[] = [];
    while (this.isOp('*') || this.isOp('/')) {
      ops.push((this.tokens[this.i++] as { text: '*' | '/' }).text);
      rest.push(this.unary());
    }
    return chain(first, ops, rest);
  }

  private unary(): Node {
    if (++this.depth > MAX_NESTING) this.fail(`the formula nests deeper than ${MAX_NESTING} levels (parentheses, calls, signs and powers)`);
    try {
      if (this.isOp('-')) {
        this.i++;
        return neg(this.unary());
      }
      if (this.isOp('+')) {
        this.i++;
        return this.unary();
      }
      return this.power();
    } finally {
      this.depth--;
    }
  }

  private power(): Node {
    const base = this.atom();
    if (!this.isOp('^')) return base;
    this.i++;
    return binary('^', base, this.unary());
  }

  private atom(): Node {
    const t = this.peek();
    if (t.kind === 'num') {
      this.i++;
      return num(t.value);
    }
    if (t.kind === 'op' && t.text === '(') {
      this.i++;
      const inner = this.expr();
      if (!this.isOp(')')) this.fail(`the "(" opened at column ${t.pos + 1} is not closed: expected ")"`);
      this.i++;
      return inner;
    }
    if (t.kind === 'name') {
      this.i++;
      if (JS_OBJECT_NAMES.has(t.text)) this.fail(`the name "${t.text}" is reserved (every JavaScript object has a member of that name): rename it`, t);
      if (this.isOp('(')) return this.call(t);
      const constant = ownEntry(CONSTANTS, t.text);
      if (constant !== undefined) {
        const role = this.options.declared?.get(t.text);
        if (role) this.fail(`"${t.text}" is both a ${role} and the constant ${t.text}: rename it`, t);
        return num(constant, t.text);
      }
      if (ownEntry(FUNCTIONS, t.text)) this.fail(`${t.text} is a function: write ${t.text}(...)`, t);
      return sym(t.text);
    }
    if (t.kind === 'end') this.fail('the formula ends where a value was expected');
    this.fail(`expected a number, a name or "(", found "${t.text}"`);
  }

  private call(name: { text: string; pos: number }): Node {
    const open = this.peek();
    this.i++;
    const args: Node[] = [];
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.expr());
        if (this.isOp(',')) {
          this.i++;
          continue;
        }
        break;
      }
    }
    if (!this.isOp(')')) this.fail(`the call of ${name.text} opened at column ${open.pos + 1} expects "," or ")"`);
    this.i++;
    const macro = ownEntry(this.options.macros, name.text);
    if (macro) return macro(args, name.pos);
    const rule = ownEntry(FUNCTIONS, name.text);
    if (!rule) {
      const known = [...Object.keys(FUNCTIONS), ...Object.keys(this.options.macros ?? {})].filter((f) => f !== 'ifle').join(', ');
      throw new FormulaError(`unknown function "${name.text}" (known: ${known})`, this.text, name.pos);
    }
    const fits = rule.variadic ? args.length >= rule.arity : args.length === rule.arity;
    if (!fits) {
      const takes = `${rule.variadic ? 'at least ' : ''}${rule.arity} argument${rule.arity === 1 ? '' : 's'}`;
      throw new FormulaError(`${name.text} takes ${takes}, got ${args.length}`, this.text, name.pos);
    }
    const wrong = rule.checkArgs?.(...args);
    if (wrong) throw new FormulaError(wrong, this.text, name.pos);
    return call(name.text, args);
  }
}
