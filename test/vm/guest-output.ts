// Splits the guest job's output into each test file's TAP by guest-tests.sh's marker lines, and
// shows progress as it comes: the markers and each file's top-level results.
import { StringDecoder } from 'node:string_decoder';

export interface GuestFile {
  /** the compiled test file, relative to the project */
  file: string;
  /** its TAP, as the guest wrote it */
  tap: string;
  /** its exit status; undefined if the guest never finished it */
  exitCode: number | undefined;
}

const BEGIN = /^tsproc-vm: begin (.+)$/;
const END = /^tsproc-vm: end (\d+) (.+)$/;
/** top-level test points (`ok 3 - name # time=...`), echoed indented as tap indents a file's tests */
const RESULT = /^(not )?ok \d+/;

export class GuestOutput {
  readonly files: GuestFile[] = [];
  private current: GuestFile | undefined;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly show: (text: string) => void) {}

  push(chunk: Buffer): void {
    this.partial += this.decoder.write(chunk);
    for (let nl = this.partial.indexOf('\n'); nl >= 0; nl = this.partial.indexOf('\n')) {
      this.line(this.partial.slice(0, nl));
      this.partial = this.partial.slice(nl + 1);
    }
  }

  /** The stream ended (the guest stopped): take a last line without its newline. */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest) this.line(rest);
  }

  private line(line: string): void {
    const begin = BEGIN.exec(line);
    const end = END.exec(line);
    if (begin) {
      this.current = { file: begin[1]!, tap: '', exitCode: undefined };
      this.files.push(this.current);
      this.show(`${line}\n`);
    } else if (end && this.current?.file === end[2]) {
      this.current.exitCode = Number(end[1]);
      this.current = undefined;
      this.show(`${line}\n`);
    } else if (this.current) {
      this.current.tap += `${line}\n`;
      if (RESULT.test(line)) this.show(`    ${line}\n`);
    } else {
      this.show(`${line}\n`); // outside any file: the job's own words
    }
  }
}
