/** A progress bar on stderr for long files, only when stderr is a terminal. */
import cliProgress from 'cli-progress';

/** Files smaller than this finish too fast for a bar to help. */
const MIN_BYTES = 32 * 1024 * 1024;

export class Progress {
  private last = 0;
  private constructor(private readonly bar: cliProgress.SingleBar) {}

  static forFile(size: number): Progress | null {
    if (!process.stderr.isTTY || size < MIN_BYTES) return null;
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'analyzing [{bar}] {percentage}% | {value}/{total} MB | eta {eta}s',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.ceil(size / 1048576), 0);
    return new Progress(bar);
  }

  update(position: number): void {
    const mb = Math.floor(position / 1048576);
    if (mb !== this.last) {
      this.last = mb;
      this.bar.update(mb);
    }
  }

  stop(): void {
    this.bar.stop();
  }
}
