/** Upper-case hex without leading zeros: the form node's `getPeerCertificate().serialNumber` uses. */
export function normaliseSerial(hex: string): string {
  return hex
    .replace(/[^0-9a-fA-F]/g, '')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
}
