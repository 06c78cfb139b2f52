import type { Region } from '../ingest/motion.js';

/** What a frame job carries in BullMQ; the pixels travel in their own Redis key (see FrameQueue). */
export interface FrameJobData {
  cameraId: string;
  seq: number;
  capturedAt: number;
  width: number;
  height: number;
  /** Crops in the pixel blob, in order: each width*height*3 bytes. */
  crops: Array<{ box: Region; width: number; height: number }>;
  /** Byte length of the JPEG of the whole frame at the end of the blob (0 when absent). */
  jpegBytes: number;
}

export interface DecodedFrameJob extends FrameJobData {
  crops: Array<{ box: Region; width: number; height: number; rgb: Buffer }>;
  frameJpeg: Buffer | null;
}

/** Splits a pixel blob back into crops and the frame JPEG, checking every length. */
export function unpackPixels(data: FrameJobData, blob: Buffer): DecodedFrameJob {
  let offset = 0;
  const crops = data.crops.map((c) => {
    const size = c.width * c.height * 3;
    if (offset + size > blob.length) throw new Error(`pixel blob too short for crop ${c.width}x${c.height}`);
    const rgb = blob.subarray(offset, offset + size);
    offset += size;
    return { ...c, rgb };
  });
  const frameJpeg = data.jpegBytes ? blob.subarray(offset, offset + data.jpegBytes) : null;
  if (offset + data.jpegBytes !== blob.length) throw new Error('pixel blob length does not match the job');
  return { ...data, crops, frameJpeg };
}
