import type { Box } from '../core/image/crop-pixels.js';

/**
 * What a frame job carries in BullMQ: the native-resolution crops of one frame's tracked objects
 * (pixels in their own Redis key, see FrameQueue) and where their scores go back to.
 */
export interface FrameJobData {
  cameraId: string;
  /** The camera's pipeline instance in its owner: results are routed to it, never to a later one. */
  pipeline: string;
  /** The ingestor that owns the camera (holds its lease, its tracks and its alerts): results go to it. */
  owner: string;
  seq: number;
  capturedAt: number;
  /** Size of the full frame the boxes refer to. */
  width: number;
  height: number;
  /** Crops in the pixel blob, in order: each width*height*3 bytes of packed RGB24, not resized. */
  crops: Array<{ trackId: number; box: Box; width: number; height: number }>;
  /** A recording's frame (FrameFormat.recording): scored however long it waited, never dropped for the deadline. */
  recording?: boolean;
}

export interface DecodedFrameJob extends FrameJobData {
  crops: Array<{ trackId: number; box: Box; width: number; height: number; rgb: Buffer }>;
}

/** Splits a pixel blob back into crops, checking every length. */
export function unpackPixels(data: FrameJobData, blob: Buffer): DecodedFrameJob {
  let offset = 0;
  const crops = data.crops.map((c) => {
    const size = c.width * c.height * 3;
    if (offset + size > blob.length) throw new Error(`pixel blob too short for crop ${c.width}x${c.height}`);
    const rgb = blob.subarray(offset, offset + size);
    offset += size;
    return { ...c, rgb };
  });
  if (offset !== blob.length) throw new Error('pixel blob length does not match the job');
  return { ...data, crops };
}
