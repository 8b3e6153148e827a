// The sources are as the formatter writes them (prettier, .prettierrc.json: 140 columns): `npm run format`
// fixes what this finds. Strings and comments longer than the width are the formatter's to leave.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

t.test('every source file is formatted', async (t) => {
  const r = spawnSync('npm', ['run', '--silent', 'format:check'], { cwd: repo, encoding: 'utf8' });
  t.equal(r.status, 0, `npm run format:check:\n${r.stdout}${r.stderr}`);
  t.match(r.stdout, /All matched files use Prettier code style/);
});
