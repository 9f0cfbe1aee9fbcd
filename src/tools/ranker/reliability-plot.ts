/**
 * A reliability diagram as a PNG, drawn pixel by pixel (no plotting library is needed for a
 * square, a diagonal and a few bars): for each confidence bin, a bar up to the observed rate of
 * correct suggestions, a dot at the mean confidence, and the diagonal of perfect calibration.
 * PNG: 8-bit RGB, one IDAT of deflated scanlines (filter 0), CRC-32 from node:zlib.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface ReliabilityBin {
  from: number;
  to: number;
  n: number;
  confidence: number;
  rate: number;
}

type Rgb = [number, number, number];

function pngOf(width: number, height: number, pixels: Uint8Array): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    Buffer.from(pixels.buffer, pixels.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * @param bins - calibration bins (fit.ts calibrationError)
 * @param size - width and height in pixels
 */
export function reliabilityPng(bins: readonly ReliabilityBin[], size = 400): Buffer {
  const margin = 30;
  const plot = size - 2 * margin;
  const pixels = new Uint8Array(size * size * 3).fill(255);
  const set = (x: number, y: number, [r, g, b]: Rgb) => {
    if (x < 0 || y < 0 || x >= size || y >= size) return;
    const i = (Math.round(y) * size + Math.round(x)) * 3;
    pixels[i] = r;
    pixels[i + 1] = g;
    pixels[i + 2] = b;
  };
  const px = (v: number) => margin + v * plot;
  const py = (v: number) => size - margin - v * plot;
  const grey: Rgb = [200, 200, 200];
  // Grid every 0.1, frame, diagonal.
  for (let k = 0; k <= 10; k++) {
    for (let t = 0; t <= plot; t++) {
      set(px(k / 10), py(t / plot), k % 5 === 0 ? [150, 150, 150] : grey);
      set(px(t / plot), py(k / 10), k % 5 === 0 ? [150, 150, 150] : grey);
    }
  }
  for (let t = 0; t <= plot; t++) set(px(t / plot), py(t / plot), [120, 120, 120]);
  // Bars: observed rate per bin (blue), only for bins with candidates.
  for (const b of bins) {
    if (b.n === 0) continue;
    for (let x = px(b.from) + 2; x <= px(b.to) - 2; x++) for (let y = py(b.rate); y <= py(0); y++) set(x, y, [70, 110, 190]);
  }
  // Dots: mean confidence against rate (red).
  for (const b of bins) {
    if (b.n === 0) continue;
    for (let dx = -3; dx <= 3; dx++) for (let dy = -3; dy <= 3; dy++) if (dx * dx + dy * dy <= 9) set(px(b.confidence) + dx, py(b.rate) + dy, [200, 40, 40]);
  }
  return pngOf(size, size, pixels);
}
