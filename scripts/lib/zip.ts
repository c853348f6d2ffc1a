/**
 * A minimal ZIP writer: files at the archive's root, deflated (or stored when that is smaller),
 * no ZIP64 (the Teams app package is a few kilobytes). Entries carry a fixed date so the same
 * input gives the same archive.
 */
import { deflateRawSync } from "node:zlib";
import { crc32 } from "./crc32.ts";

export interface ZipEntry {
  /** The entry's path inside the archive (ASCII; "/" separates folders). */
  name: string;
  data: Uint8Array;
}

// MS-DOS time and date of 1980-01-01 00:00, the format's epoch.
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;
const VERSION = 20; // 2.0: deflate

/** The bytes of a ZIP archive holding the entries in order. */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    if (!/^[\x20-\x7e]+$/.test(name) || name.startsWith("/") || name.includes("\\"))
      throw new Error(`writeZip: bad entry name ${JSON.stringify(name)}`);
    const nameBytes = Buffer.from(name, "ascii");
    const deflated = deflateRawSync(data, { level: 9 });
    const [method, body] = deflated.length < data.length ? [8, deflated] : [0, Buffer.from(data)];
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28); // extra field length
    locals.push(local, nameBytes, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION, 4); // made by: MS-DOS attributes, version 2.0
    central.writeUInt16LE(VERSION, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    // extra, comment, disk number, internal and external attributes: 0
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);

    offset += local.length + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
