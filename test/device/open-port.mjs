// Child script for the permission test: opens a port with the workbench's serial-port module and
// prints the error as JSON (run as an unprivileged user).
import { register } from 'tsx/esm/api';
register();
const { openPort } = await import('../../src-main/device/serial-port.ts');
try {
  const link = await openPort(process.argv[2], 921600);
  await link.close();
  console.log(JSON.stringify({ opened: true }));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
