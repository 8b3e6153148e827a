// Which of tsproc's arguments Node 20 takes for its own --env-file: Node's rule, as node 20.20.2 behaves
// (`node script.js --env-file=F` loads F; `node -- script.js --env-file=F` and `node script.js -- --env-file=F`
// do not; `--env-filexyz=F` is not the flag) and as src/node_dotenv.cc, Dotenv::GetDataFromArgs, writes it.
import t from 'tap';
import { argumentsNodeRead } from '../../src/cli/node-read-arguments.js';

/** `node [NODE ARGS] bin/tsproc.js OWN...` as Node's command line, and how many entries are tsproc's. */
const line = (node: string[], own: string[]): [string[], number] => [['node', ...node, 'bin/tsproc.js', ...own], own.length];

t.test("an --env-file among tsproc's arguments is read by Node, in each of its four spellings", async (t) => {
  t.same(argumentsNodeRead(...line([], ['run', '--env-file', 'F', 'img'])), ['--env-file F']);
  t.same(argumentsNodeRead(...line([], ['run', '--env-file=F', 'img'])), ['--env-file=F']);
  t.same(argumentsNodeRead(...line([], ['run', '--env-file-if-exists', 'F'])), ['--env-file-if-exists F']);
  t.same(argumentsNodeRead(...line([], ['run', '--env-file-if-exists=F'])), ['--env-file-if-exists=F']);
  t.same(
    argumentsNodeRead(...line([], ['run', 'img', 'echo', '--env-file', '/etc/shadow'])),
    ['--env-file /etc/shadow'],
    "the container's arguments too",
  );
});

t.test("a `--` anywhere before it stops Node's search: the bin's `node -- FILE`, or one among the arguments", async (t) => {
  t.same(argumentsNodeRead(['node', '--', 'bin/tsproc.js', 'run', '--env-file', 'F'], 3), []);
  t.same(argumentsNodeRead(...line([], ['run', '--rootfs', 'r', '--', 'echo', '--env-file', 'F'])), []);
});

t.test('names that only start like it, and a last --env-file with no file, are not read', async (t) => {
  t.same(argumentsNodeRead(...line([], ['run', '--env-filexyz=F', '--env-files', 'F'])), []);
  t.same(argumentsNodeRead(...line([], ['run', 'img', '--env-file'])), []);
});

t.test('a match takes the next argument even when it looks like a flag, and the search goes on from there', async (t) => {
  t.same(argumentsNodeRead(...line([], ['--env-file', '--env-file', 'F'])), ['--env-file --env-file', '--env-file F']);
  t.same(
    argumentsNodeRead(...line([], ['--env-file', '--', '--env-file', 'F'])),
    ['--env-file --'],
    'the `--` taken as a file still ends the search',
  );
});

t.test("Node's own options before the script are the starter's, not tsproc's arguments", async (t) => {
  t.same(argumentsNodeRead(...line(['--env-file=/etc/tsproc.env'], ['mount', '/var/lib/tsproc'])), []);
  t.same(argumentsNodeRead(...line(['--no-warnings'], ['ps'])), []);
});
