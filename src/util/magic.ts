/**
 * File type by magic bytes, for EVE `fileinfo.magic` (HTTP files in src/output/fileinfo.ts, SMTP
 * attachments in src/applayer/smtp/eve.ts): the common types seen on the wire, named as libmagic
 * names them, without libmagic's database.
 */

/** Leading bytes -> a libmagic-style description (the common file types seen on the wire). */
const MAGIC: readonly [number[], string][] = [
  [[0x4d, 0x5a], 'PE32 executable (MS Windows)'],
  [[0x7f, 0x45, 0x4c, 0x46], 'ELF'],
  [[0x25, 0x50, 0x44, 0x46, 0x2d], 'PDF document'],
  [[0x50, 0x4b, 0x03, 0x04], 'Zip archive data'],
  [[0x1f, 0x8b], 'gzip compressed data'],
  [[0x89, 0x50, 0x4e, 0x47], 'PNG image data'],
  [[0xff, 0xd8, 0xff], 'JPEG image data'],
  [[0x47, 0x49, 0x46, 0x38], 'GIF image data'],
  [[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], 'Composite Document File V2 Document'],
  [[0x52, 0x61, 0x72, 0x21], 'RAR archive data'],
  [[0x37, 0x7a, 0xbc, 0xaf], '7-zip archive data'],
  [[0xca, 0xfe, 0xba, 0xbe], 'Java class data'],
];

/** A short description of the data's type from its first bytes ('' for empty data). */
export function magicOf(b: Uint8Array): string {
  if (b.length === 0) return '';
  for (const [sig, name] of MAGIC) if (sig.length <= b.length && sig.every((x, k) => b[k] === x)) return name;
  const head = Buffer.from(b.subarray(0, 512)).toString('latin1');
  if (/^\s*<(!doctype html|html|head|body)/i.test(head)) return 'HTML document, ASCII text';
  if (/^\s*<\?xml/i.test(head)) return 'XML document text';
  const n = Math.min(b.length, 512);
  let binary = false;
  let high = false;
  for (let k = 0; k < n; k++) {
    const c = b[k]!;
    if (c < 9 || (c > 13 && c < 32)) binary = true;
    else if (c >= 0x7f) high = true;
  }
  if (/^\s*[{[]/.test(head) && !binary) return 'JSON data';
  if (!binary && !high) return 'ASCII text';
  return 'data';
}
