import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Whether a command is on this machine. In CI every interop tool must be: .ci/run installs them. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Debian's Kafka client packages live in the system Python, not a pyenv one on PATH. */
export const SYSTEM_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function hasPythonModule(module: string): boolean {
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Skips a suite only outside CI when its tool is missing; in CI a missing tool fails the suite
 * instead of silently skipping it.
 */
export function requireTool(available: boolean): boolean {
  if (!available && process.env.CI)
    throw new Error('an interop tool is missing in CI: .ci/run must install it');
  return !available;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a process with a deadline, feeding `input` on stdin; kills it (by its own PID) on timeout. */
export function run(cmd: string, args: string[], input = '', timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
