/** Segmented encoding of one input to one preset: plan, per-segment ffmpeg arguments, join. */
export { canSegment, segmentCodec, type SegmentCodec } from './codec-frames.ts';
export { segmentEncodeArgs } from './encode-args.ts';
export { joinSegments } from './join.ts';
export { planSegments, type PlanRequest, type Segment } from './plan.ts';
export { encodeSegmented, type SegmentedEncode } from './encode-segmented.ts';
