/** Removes a password from a connection URI before it is stored or logged. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+):[^@/]*@/i, '$1:[redacted]@');
}
