import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { exitFor } from '../../src/cli/exit.js';
import { VERSION } from '../../src/cli/version.js';
import { UsageError } from '../../src/errors.js';

test('only a real bug gets "unexpected error", the trace and where to report it; user mistakes get one line', async () => {
  const bug = exitFor(new TypeError("Cannot read properties of undefined (reading 'x')"));
  assert.equal(bug.code, 1);
  assert.match(
    bug.message,
    new RegExp(
      `^netprobe: unexpected error \\(a bug in netprobe ${VERSION.replace(/\./g, '\\.')}: please report it on the project's issue tracker with this output and the command line\\): Cannot read`,
    ),
  );
  assert.match(bug.message, /\n\s+at /);

  const fsError = await mkdir('/dev/null/report').catch((err: unknown) => err);
  const path = exitFor(fsError);
  assert.deepEqual(path, {
    code: 1,
    message: 'netprobe: cannot create /dev/null/report: a part of the path is a file, not a folder (ENOTDIR)\n',
  });
  assert.deepEqual(exitFor(new UsageError('--x: bad')), { code: 2, message: 'netprobe: --x: bad\n' });
});
