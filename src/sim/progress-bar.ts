/**
 * The progress bar of `voltbill simulate` (cli-progress), drawn through the command's stderr writer so that the
 * command stays testable without a real terminal. Log lines go above the bar.
 */
import { MultiBar, Presets } from 'cli-progress';
import type { SimulationProgress } from './summary.ts';

export interface ProgressBar {
  update(progress: SimulationProgress): void;
  log(line: string): void;
  stop(): void;
}

/** Redraws per second at most. */
export const PROGRESS_FPS = 5;

export function createProgressBar(write: (text: string) => void, sessionsPlanned: number, columns = 100): ProgressBar {
  // cli-progress writes only text and ANSI escapes (through readline's cursor helpers) to its stream.
  const stream = {
    isTTY: true,
    columns,
    write(text: string): boolean {
      write(text);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const multiBar = new MultiBar(
    {
      stream,
      fps: PROGRESS_FPS,
      hideCursor: true,
      clearOnComplete: false,
      gracefulExit: false,
      format: 'sessions |{bar}| {value}/{total} | {stations} stations | {messages} messages | {errors} errors',
    },
    Presets.shades_classic,
  );
  const bar = multiBar.create(sessionsPlanned, 0, { stations: 0, messages: 0, errors: 0 });
  return {
    update(progress) {
      bar.update(progress.sessionsDone, {
        stations: progress.stationsConnected,
        messages: progress.messagesSent,
        errors: progress.errors,
      });
    },
    log(line) {
      multiBar.log(`${line}\n`);
    },
    stop() {
      multiBar.stop();
    },
  };
}
