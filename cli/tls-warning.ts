// One Node warning silenced for every command (apart from service.ts, so main.ts loads no grpc-js).
/** Node warns (DEP0123) each time TLS is dialled at an IP address, as grpc-js does for a target
 *  such as 127.0.0.1:7000; the certificate is still checked against that IP, so the warning only
 *  confuses. Every other warning is printed as before. */
export function quietTlsIpAddressWarning(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    if (warning.code === 'DEP0123') return;
    for (const print of printers) print(warning);
  });
}
