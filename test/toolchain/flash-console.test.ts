// flashFlow with the console port: the port is opened before flashing, output of the firmware
// being replaced is ignored, and the new known-answer test is read after OpenOCD resets the board.
// OpenOCD here is a STAND-IN shell script (no board is attached): it prints the real tool's
// program/verify banners and, while "programming", writes the OLD firmware's PASS to the pty.
import { describe, expect, it } from 'vitest';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flashFlow } from '../../src-main/toolchain/flow.ts';
import { createPtyPair } from '../../src-main/device/pty-pair.ts';

function standInOpenocd(dir: string, devicePath: string): string {
  const script = join(dir, 'openocd');
  writeFileSync(script, `#!/bin/sh
# STAND-IN for OpenOCD (test fixture): records its arguments, prints the program/verify banners.
printf '%s\\n' "$@" > "${dir}/args.txt"
echo "Open On-Chip Debugger 0.12.0 (stand-in)" >&2
echo "** Programming Started **" >&2
printf '*** CNN Inference Test old ***\\r\\n*** PASS ***\\r\\n' > "${devicePath}"
sleep 0.3
echo "** Programming Finished **" >&2
echo "** Verify Started **" >&2
echo "** Verified OK **" >&2
echo "** Resetting Target **" >&2
echo "shutdown command invoked" >&2
`);
  chmodSync(script, 0o755);
  return script;
}

describe('flash with console read', () => {
  it('ignores the old firmware\'s output and reads the new KAT verdict', async () => {
    const pair = await createPtyPair();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'qatwb-flash-'));
      mkdirSync(join(dir, 'scripts', 'target'), { recursive: true });
      writeFileSync(join(dir, 'scripts', 'target', 'max78002.cfg'), '# stand-in\n');
      mkdirSync(join(dir, 'project', 'build'), { recursive: true });
      writeFileSync(join(dir, 'project', 'build', 'max78002.elf'), 'elf');
      const settings = { openocd: standInOpenocd(dir, pair.devicePath), openocdScripts: join(dir, 'scripts') };
      const r = await flashFlow(
        {
          settings,
          onProgress: (p) => {
            if (p.phase === 'flash' && p.fraction === 1) {
              // The board rebooted into the new firmware: its KAT fails.
              const fd = openSync(pair.devicePath, 'w');
              writeSync(fd, 'Waiting...\r\n*** CNN Inference Test new ***\r\nData mismatch (1/10) at address 0x51800000: Expected 0x1, read 0x2.\r\n*** FAIL ***\r\n');
              closeSync(fd);
            }
          },
        },
        { projectDir: join(dir, 'project'), consolePort: pair.hostPath, consoleTimeoutMs: 5000 },
      );
      expect(r.kat.status).toBe('fail');
      expect(r.kat.lines).toContain('*** CNN Inference Test new ***');
      expect(r.kat.lines).not.toContain('*** CNN Inference Test old ***');
      expect(readFileSync(join(dir, 'args.txt'), 'utf8').trim().split('\n')).toEqual([
        '-s', join(dir, 'scripts'), '-f', 'interface/cmsis-dap.cfg', '-f', 'target/max78002.cfg', '-c', `program {${join(dir, 'project', 'build', 'max78002.elf')}} verify reset exit`,
      ]);
    } finally {
      await pair.close();
    }
  });
});
