/**
 * Reads a ZIP archive back the way unzip does (end record → central directory → local headers),
 * independently of scripts/lib/zip.ts, and checks each entry's sizes and CRC (node:zlib's crc32).
 */
import { crc32, inflateRawSync } from "node:zlib";

export interface ReadEntry {
  name: string;
  method: number;
  data: Buffer;
}

/** The entries in central-directory order; throws on anything a strict reader would refuse. */
export function readZip(zip: Buffer): ReadEntry[] {
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0 || endAt + 22 > zip.length) throw new Error("no end of central directory record");
  const count = zip.readUInt16LE(endAt + 10);
  if (zip.readUInt16LE(endAt + 8) !== count) throw new Error("entries on this disk differ from the total");
  const size = zip.readUInt32LE(endAt + 12);
  let at = zip.readUInt32LE(endAt + 16);
  if (at + size !== endAt) throw new Error("the central directory does not end where the end record starts");

  const entries: ReadEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`central directory entry ${i}: bad signature`);
    const [flags, method, crc, compressed, size] = [
      zip.readUInt16LE(at + 8),
      zip.readUInt16LE(at + 10),
      zip.readUInt32LE(at + 16),
      zip.readUInt32LE(at + 20),
      zip.readUInt32LE(at + 24),
    ];
    const [nameLength, extraLength, commentLength] = [zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32)];
    const offset = zip.readUInt32LE(at + 42);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (flags & 0x0009) throw new Error(`${name}: encrypted or with a data descriptor`);

    if (zip.readUInt32LE(offset) !== 0x04034b50) throw new Error(`${name}: bad local header signature`);
    const localName = zip.toString("utf8", offset + 30, offset + 30 + zip.readUInt16LE(offset + 26));
    if (localName !== name) throw new Error(`${name}: the local header names ${localName}`);
    if (zip.readUInt16LE(offset + 8) !== method || zip.readUInt32LE(offset + 14) !== crc || zip.readUInt32LE(offset + 18) !== compressed) {
      throw new Error(`${name}: the local header disagrees with the central directory`);
    }
    const start = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28);
    const body = zip.subarray(start, start + compressed);
    const data = method === 8 ? inflateRawSync(body) : method === 0 ? Buffer.from(body) : undefined;
    if (!data) throw new Error(`${name}: compression method ${method}`);
    if (data.length !== size) throw new Error(`${name}: ${data.length} bytes, the directory says ${size}`);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
    entries.push({ name, method, data });
  }
  return entries;
}
