import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printable, renderTable } from '../../src/analysis/table.js';

test('names with control characters are escaped when analyse prints them (a CN cannot drive the terminal)', () => {
  assert.equal(printable('mallory\x1b[2J\x07'), 'mallory\\x1b[2J\\x07');
  assert.equal(printable('evil\u202eexe.txt'), 'evil\\u{202e}exe.txt');
  assert.equal(printable('line\nbreak\ttab\x7f'), 'line\\x0abreak\\x09tab\\x7f');
  assert.equal(printable('back\\slash'), 'back\\\\slash', 'a backslash is escaped too, so an escape cannot be forged');
  assert.equal(printable('zoë-probe 東京'), 'zoë-probe 東京', 'printable Unicode is kept');
  const table = renderTable(['client', 'n'], [['a\x1b]0;pwned\x07', '1']]);
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\x00-\x1f]/.test(table.replaceAll('\n', '')), table);
  assert.match(table, /a\\x1b\]0;pwned\\x07 {2}1/);
});
