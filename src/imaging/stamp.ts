/** A mark ready to place: raw RGBA pixels, padded by its margin so gravity placement keeps it off the edge. */
export interface Watermark {
  data: Buffer;
  width: number;
  height: number;
}
