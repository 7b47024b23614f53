import { execFileSync, spawnSync } from 'node:child_process';

// The bench's preparation (README "Benchmarks"): closed loops need Debian's `wrk`. Installed with
// apt when missing, as scripts/toolchain.sh installs redis-server; a machine without apt is told
// what to install.

function found(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

export function ensureWrk(log: (line: string) => void): void {
  if (found()) return;
  log('bench: wrk is missing; installing Debian’s wrk (apt-get install -y wrk)');
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync(
      sudo[0] ?? 'apt-get',
      [...(sudo.length > 0 ? ['apt-get'] : []), 'install', '-y', '-qq', 'wrk'],
      {
        stdio: 'ignore',
        env,
      },
    );
  } catch {
    // Perhaps the package lists are stale: once more after an update.
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const apt = (args: string[]) =>
        execFileSync(sudo[0] ?? 'apt-get', [...(sudo.length > 0 ? ['apt-get'] : []), ...args], {
          stdio: 'ignore',
          env,
        });
      apt(['update', '-qq']);
      apt(['install', '-y', '-qq', 'wrk']);
    } catch {
      // Reported below.
    }
  }
  if (!found())
    throw new Error(
      'wrk is not installed and could not be installed: apt-get install wrk, or run with --generator autocannon',
    );
}
